//! The figures on a small cohort worked out by hand, as of 31 January 2027
//! (the DfE activity survey date): through the library and through the CLI.

use caseload::config::Config;
use caseload::domain::activity::ActivitySource;
use caseload::domain::ops::{FieldSet, Hlc};
use caseload::domain::person::{
    Characteristic, CharacteristicSpan, Gender, PersonName, SendStatus,
};
use caseload::domain::records::{
    DestinationKind, IntendedDestination, OfferStatus, OfferYear, SeptemberGuaranteeOffer,
};
use caseload::domain::{
    ActivityCode, CurrentActivity, DeviceId, District, FieldValue, Op, OpId, OpPayload, PersonId,
    WorkerId,
};
use caseload::replica::Replica;
use caseload::report::{self, Breakdown, VulnerableGroup};
use caseload::store::Origin;
use caseload::store::crypto::KdfParams;
use chrono::NaiveDate;
use std::process::Command;

const FAST: KdfParams = KdfParams::LEAST;
const PASS: &str = "report fixture passphrase";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The real binary on a fixture store, "today" set: exit code, stdout, stderr.
fn cli(
    dir: &std::path::Path,
    config_home: &std::path::Path,
    today: &str,
    args: &[&str],
) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_caseload"))
        .args(["--store", dir.to_str().unwrap()])
        .args(args)
        .env("CASELOAD_PASSPHRASE", PASS)
        .env("CASELOAD_TODAY", today)
        .env("XDG_CONFIG_HOME", config_home)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

struct Fixture {
    ops: Vec<Op>,
    n: u128,
}

impl Fixture {
    fn op(&mut self, person: PersonId, on: NaiveDate, payload: OpPayload) {
        self.n += 1;
        let millis = on
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis() as u64;
        self.ops.push(Op {
            id: OpId(uuid::Uuid::from_u128(self.n)),
            at: Hlc::new(millis, 0),
            author: WorkerId::new("fixture"),
            device: DeviceId(uuid::Uuid::from_u128(1)),
            person,
            payload,
        });
    }

    /// A store at `dir` holding every op, as pulled from a hub.
    fn store(self, dir: &std::path::Path) -> Replica {
        let mut r = Replica::init(dir, PASS.as_bytes(), WorkerId::new("fixture"), FAST).unwrap();
        r.commit(&self.ops, Origin::Remote).unwrap();
        r
    }

    fn set(&mut self, person: PersonId, on: NaiveDate, values: Vec<FieldValue>) {
        let sets = values
            .into_iter()
            .map(|value| FieldSet {
                value,
                supersedes: vec![],
            })
            .collect();
        self.op(person, on, OpPayload::SetFields(sets));
    }

    /// Registers a person on 1 September 2026.
    fn person(
        &mut self,
        n: u128,
        given: &str,
        dob: NaiveDate,
        district: District,
        extra: Vec<FieldValue>,
    ) -> PersonId {
        let id = PersonId(uuid::Uuid::from_u128(0xF000 + n));
        let mut values = vec![
            FieldValue::Name(PersonName {
                given: given.into(),
                family: "Fixture".into(),
                preferred: None,
            }),
            FieldValue::DateOfBirth(dob),
            FieldValue::District(district),
            FieldValue::Gender(Gender::Female),
        ];
        values.extend(extra);
        self.set(id, d(2026, 9, 1), values);
        id
    }

    fn activity(
        &mut self,
        person: PersonId,
        code: u16,
        confirmed: NaiveDate,
        end: Option<NaiveDate>,
    ) {
        let a = CurrentActivity {
            code: ActivityCode::new(code).unwrap(),
            start: confirmed,
            confirmed,
            source: ActivitySource::YoungPerson,
            expected_end: end,
            provider: None,
        };
        self.set(person, confirmed, vec![FieldValue::CurrentActivity(a)]);
    }
}

fn since(c: Characteristic, start: NaiveDate) -> FieldValue {
    FieldValue::Characteristic(c, Some(CharacteristicSpan { start, end: None }))
}

fn build(dir: &std::path::Path) -> Replica {
    let mut f = Fixture { ops: vec![], n: 0 };
    use District::*;
    // Headline cohort (academic ages 16-17 on 31/01/2027):
    let a = f.person(1, "Ada", d(2010, 3, 1), Thanet, vec![]); // Y12
    f.activity(a, 230, d(2026, 9, 10), None); // EET, participating
    let b = f.person(
        2,
        "Bea",
        d(2009, 5, 5),
        Thanet,
        vec![since(Characteristic::Pregnant, d(2026, 10, 1))],
    ); // Y13
    f.activity(b, 619, d(2026, 12, 1), None); // NEET, current to 01/03/2027
    let c = f.person(3, "Cat", d(2010, 6, 6), Dover, vec![]); // Y12
    f.activity(c, 619, d(2026, 9, 1), None); // NEET expired 01/12/2026: Not Known
    let dd = f.person(4, "Dee", d(2009, 7, 7), Swale, vec![]); // Y13
    f.activity(dd, 330, d(2026, 10, 15), None); // EET, not participating
    let g = f.person(7, "Gil", d(2010, 1, 15), Thanet, vec![]); // Y12, moves to Dover
    f.activity(g, 310, d(2026, 9, 20), Some(d(2028, 1, 1))); // apprenticeship
    f.set(g, d(2027, 1, 10), vec![FieldValue::District(Dover)]);
    let _h = f.person(8, "Hal", d(2010, 2, 2), Swale, vec![]); // Y12, no activity: Not Known
    let j = f.person(10, "Jo", d(2009, 6, 6), Thanet, vec![]); // Y13
    f.activity(j, 230, d(2026, 9, 5), None);
    f.activity(j, 619, d(2027, 2, 5), None); // recorded after 31/01: not counted yet
    // Outside the headline:
    let e = f.person(
        5,
        "Eve",
        d(2008, 4, 4),
        Thanet,
        vec![since(Characteristic::SupervisedByYot, d(2025, 1, 1))],
    ); // Y14
    f.activity(e, 230, d(2026, 9, 10), None);
    let ff = f.person(
        6,
        "Fay",
        d(2005, 1, 1),
        Swale,
        vec![FieldValue::Send(SendStatus::EhcPlan)],
    ); // SEND, 21
    f.activity(ff, 619, d(2026, 12, 15), None);
    // Known only after 31/01/2027:
    let i = PersonId(uuid::Uuid::from_u128(0xF009));
    f.set(
        i,
        d(2027, 2, 10),
        vec![
            FieldValue::Name(PersonName {
                given: "Ivy".into(),
                family: "Fixture".into(),
                preferred: None,
            }),
            FieldValue::DateOfBirth(d(2010, 4, 4)),
            FieldValue::District(Dover),
        ],
    );
    f.store(dir)
}

#[test]
fn headline_by_district_year_and_group_match_the_hand_count() {
    let tmp = tempfile::tempdir().unwrap();
    let r = build(&tmp.path().join("s"));
    let c = Config::default();
    let people = r.index().all();
    let on = d(2027, 1, 31);

    // A, B, C, D, G, H, J: 7. E (18), F (SEND 21) and I (not yet known) are out.
    let h = report::headline(people, on, &c.currency);
    assert_eq!(
        (h.cohort, h.eet, h.neet, h.not_known, h.participating),
        (7, 4, 1, 2, 3)
    );
    assert_eq!(
        format!(
            "{:.1} {:.1} {:.1}",
            h.neet_pct(),
            h.not_known_pct(),
            h.participation_pct()
        ),
        "14.3 28.6 42.9"
    );

    let by = |b| report::headline_by(people, on, &c.currency, b);
    let district = |name: &str| {
        by(Breakdown::District)
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
    };
    let thanet = district("Thanet"); // A, B, J
    assert_eq!(
        (
            thanet.cohort,
            thanet.eet,
            thanet.neet,
            thanet.not_known,
            thanet.participating
        ),
        (3, 2, 1, 0, 2)
    );
    let dover = district("Dover"); // C (expired), G (moved here)
    assert_eq!(
        (
            dover.cohort,
            dover.eet,
            dover.not_known,
            dover.participating
        ),
        (2, 1, 1, 1)
    );
    let swale = district("Swale"); // D, H
    assert_eq!(
        (
            swale.cohort,
            swale.eet,
            swale.not_known,
            swale.participating
        ),
        (2, 1, 1, 0)
    );
    let total: usize = by(Breakdown::District).iter().map(|(_, f)| f.cohort).sum();
    assert_eq!(
        total, 7,
        "a person who moved counts once, in their new district"
    );

    let years = by(Breakdown::Year);
    assert_eq!(years[0].1.cohort, 4); // Y12: A, C, G, H
    assert_eq!(years[1].1.cohort, 3); // Y13: B, D, J

    // Groups count the whole tracked cohort: 16-18 and SEND to 24.
    let groups = report::by_group(people, on, &c.currency, c.cohort.send_upper_age);
    let group = |g: VulnerableGroup| groups.iter().find(|(x, _)| *x == g).unwrap().1;
    assert_eq!(
        (
            group(VulnerableGroup::Send19Plus).cohort,
            group(VulnerableGroup::Send19Plus).neet
        ),
        (1, 1)
    ); // F
    assert_eq!(
        (
            group(VulnerableGroup::Pregnancy).cohort,
            group(VulnerableGroup::Pregnancy).neet
        ),
        (1, 1)
    ); // B
    assert_eq!(
        (
            group(VulnerableGroup::Yot).cohort,
            group(VulnerableGroup::Yot).neet
        ),
        (1, 0)
    ); // E, Y14

    // The trend is the headline as of each month end, from the history. On 31
    // October: A, D, G, J in EET (A, G, J participating), C NEET (current to
    // 1 December), B and H with nothing recorded yet: Not Known.
    let trend = report::monthly_trend(people, d(2027, 3, 1), &c.currency, 6);
    assert_eq!(
        trend.iter().map(|(m, _)| *m).collect::<Vec<_>>(),
        vec![
            d(2026, 10, 31),
            d(2026, 11, 30),
            d(2026, 12, 31),
            d(2027, 1, 31),
            d(2027, 2, 28),
            d(2027, 3, 1)
        ]
    );
    let oct = trend[0].1;
    assert_eq!(
        (
            oct.cohort,
            oct.eet,
            oct.neet,
            oct.not_known,
            oct.participating
        ),
        (7, 4, 1, 2, 3)
    );
    for (m, f) in &trend {
        assert_eq!(
            *f,
            report::headline(people, *m, &c.currency),
            "trend at {m}"
        );
    }
    assert_eq!(
        trend[3].1, h,
        "January's point is the headline as of 31 January"
    );

    // A week later J's NEET spell is recorded and I is known (no activity: Not Known).
    let later = report::headline(people, d(2027, 2, 12), &c.currency);
    assert_eq!((later.cohort, later.neet, later.not_known), (8, 2, 3));
}

#[test]
fn the_cli_prints_the_same_figures_as_csv_json_and_nccis_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    drop(build(&dir));
    let config_home = tmp.path().join("config");
    let run = |args: &[&str]| cli(&dir, &config_home, "2027-03-01", args);
    let (code, csv, _) = run(&[
        "report",
        "headline",
        "--as-of",
        "31/01/2027",
        "--by",
        "district",
        "--format",
        "csv",
    ]);
    assert_eq!(code, Some(0));
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "population,cohort,eet,neet,not_known,participating,eet_percent,neet_percent,not_known_percent,participation_percent,\
         neet_target,neet_gap,not_known_target,not_known_gap,participation_target,participation_gap,\
         custody,denominator,neet_or_not_known,neet_or_not_known_percent,in_education_training,\
         in_education_training_percent,full_time_education,part_time_education,apprenticeship,\
         work_based_learning,employment_with_training,other_training"
    );
    // Targets 1 / 4 / 90 %; the gaps worked out by hand: 14.3−1, 28.6−4, 42.9−90.
    assert_eq!(
        lines.next().unwrap(),
        "All (academic ages 16–17),7,4,1,2,3,57.1,14.3,28.6,42.9,1.0,13.3,4.0,24.6,90.0,-47.1,\
         0,7,3,42.9,3,42.9,2,0,1,0,0,0"
    );
    assert!(
        csv.contains("\nThanet,3,2,1,0,2,66.7,33.3,0.0,66.7,1.0,32.3,4.0,-4.0,90.0,-23.3,0,3,1,33.3,2,66.7,2,0,0,0,0,0\n"),
        "{csv}"
    );
    assert!(
        csv.contains("\nDover,2,1,0,1,1,50.0,0.0,50.0,50.0,1.0,-1.0,4.0,46.0,90.0,-40.0,0,2,1,50.0,1,50.0,0,0,1,0,0,0\n"),
        "{csv}"
    );

    let (_, json, _) = run(&[
        "report",
        "headline",
        "--as-of",
        "2027-01-31",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["rows"][0]["neet"], 1);
    assert_eq!(v["targets"]["not_known_percent"], 4.0);

    let (_, table, _) = run(&["report", "headline", "--as-of", "2027-01-31"]);
    assert!(
        table.contains("NEET            14.3%  target   1.0%  gap +13.3  NOT met"),
        "{table}"
    );

    let (code, _, err) = run(&["report", "headline", "--as-of", "01/04/2027"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("is in the future"), "{err}");
    let (code, _, err) = run(&["report", "headline", "--by", "planet"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("use district, area, year or group"), "{err}");

    let (code, nccis, err) = run(&["report", "nccis", "--month", "2027-01"]);
    assert_eq!(code, Some(0), "{err}");
    // E and F are in the statutory cohort too (Y14; SEND to 24); I is not yet known.
    assert_eq!(nccis.lines().count(), 1 + 9, "{nccis}");
    let cat = nccis.lines().find(|l| l.contains(",Cat,")).unwrap();
    assert!(
        cat.contains(",619,2026-09-01,2026-09-01,true,Not Known,"),
        "{cat}"
    );
    let jo = nccis.lines().find(|l| l.contains(",Jo,")).unwrap();
    assert!(
        jo.contains(",230,"),
        "as at 31 January Jo was in education: {jo}"
    );
    let (code, _, err) = run(&["report", "nccis", "--month", "2027-13"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("use YYYY-MM"), "{err}");

    let (_, groups, _) = run(&[
        "report",
        "groups",
        "--as-of",
        "2027-01-31",
        "--format",
        "csv",
    ]);
    assert!(groups.contains("SEND 19+,1,1,8,-7,100.0,0"), "{groups}");
}

/// The DfE's definitions, worked out by hand on nine young people of academic
/// age 16–17, as of 15 March 2027, all known since 1 September 2026.
fn build_dfe(dir: &std::path::Path) -> Replica {
    let mut f = Fixture { ops: vec![], n: 0 };
    let dob = d(2010, 3, 1); // academic age 16 throughout
    let one = |f: &mut Fixture, n: u128, name: &str, code: Option<(u16, NaiveDate)>| {
        let p = f.person(100 + n, name, dob, District::Thanet, vec![]);
        if let Some((code, on)) = code {
            f.activity(p, code, on, None);
        }
    };
    let sept = d(2026, 9, 10);
    one(&mut f, 1, "Ada", Some((230, sept))); // full-time education: duty, learning
    one(&mut f, 2, "Bo", Some((250, sept))); // part-time education: learning only
    one(&mut f, 3, "Cy", Some((530, sept))); // re-engagement: duty only
    one(&mut f, 4, "Di", Some((260, sept))); // gap year: EET, neither
    one(&mut f, 5, "Ed", Some((710, d(2027, 1, 15)))); // custody: out of the denominator
    one(&mut f, 6, "Fi", Some((720, d(2027, 1, 15)))); // asylum: neither EET nor NEET
    one(&mut f, 7, "Gus", Some((619, d(2027, 1, 20)))); // NEET from 20 January
    one(&mut f, 8, "Hen", None); // never heard of: Not Known
    one(&mut f, 9, "Ian", Some((330, d(2026, 10, 1)))); // employment without training
    // The groups: care split by the authority responsible, SEN support and EHC plans.
    let id = |n: u128| PersonId(uuid::Uuid::from_u128(0xF000 + 100 + n));
    f.set(
        id(1),
        sept,
        vec![since(Characteristic::LookedAfterThisLa, sept)],
    );
    f.set(
        id(2),
        sept,
        vec![
            since(Characteristic::LookedAfterOtherLa, sept),
            FieldValue::Send(SendStatus::SenSupport),
        ],
    );
    f.set(
        id(7),
        sept,
        vec![
            since(Characteristic::CareLeaverOtherLa, sept),
            FieldValue::Send(SendStatus::EhcPlan),
        ],
    );
    f.store(dir)
}

#[test]
fn the_dfe_headline_custody_asylum_both_participations_and_the_winter_average() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    drop(build_dfe(&dir));
    let config_home = tmp.path().join("config");
    let run = |args: &[&str]| cli(&dir, &config_home, "2027-03-15", args);
    // Cohort 9, less Ed in custody: 8. EET Ada, Bo, Cy, Di, Ian (5); NEET Gus;
    // Not Known Hen; neither Ed nor Fi. In education and training: Ada
    // (full-time), Bo (part-time). Meeting the duty: Ada, Cy.
    let (code, json, err) = run(&["report", "headline", "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let all = &v["rows"][0];
    let field = |k: &str| all[k].clone();
    assert_eq!(
        [
            "cohort",
            "custody",
            "denominator",
            "eet",
            "neet",
            "not_known",
            "in_education_training",
            "full_time_education",
            "part_time_education",
            "participating"
        ]
        .map(field),
        [9, 1, 8, 5, 1, 1, 2, 1, 1, 2].map(serde_json::Value::from)
    );
    assert_eq!(
        [
            "eet_percent",
            "neet_percent",
            "not_known_percent",
            "neet_or_not_known_percent",
            "in_education_training_percent",
            "participation_percent"
        ]
        .map(field),
        [62.5, 12.5, 12.5, 25.0, 25.0, 25.0].map(serde_json::Value::from)
    );

    // December–February: on 31 December Ed and Fi had nothing recorded (Not
    // Known) and Gus was not yet NEET: 9 over, NEET 0, Not Known 4. On 31
    // January and 28 February: 8 over (Ed in custody), NEET 1, Not Known 1.
    // Averages: 25/3 over, NEET 2/3, Not Known 6/3: 8.0 %, 24.0 %, 32.0 %.
    let (code, table, err) = run(&["report", "headline", "--average", "dec-feb"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        table.contains(
            "December 2026 to February 2027 (month-ends 31/12/2026 31/01/2027 28/02/2027):"
        ),
        "{table}"
    );
    assert!(
        table.contains("NEET 8.0% · Not Known 24.0% · NEET or Not Known 32.0% (of 8.3 on average)"),
        "{table}"
    );
    assert!(table.contains("NEET or NK      25.0%"), "{table}");
    assert!(
        table.contains("Percentages of 8 (the cohort 9 less 1 in custody)"),
        "{table}"
    );
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
    let (code, csv, _) = run(&[
        "report",
        "headline",
        "--average",
        "dec-feb-2026",
        "--format",
        "csv",
    ]);
    assert_eq!(code, Some(0));
    assert!(csv.contains(",8.33,0.67,2.0,8.0,24.0,32.0"), "{csv}");
    // Groups: in care Ada (this LA) and Bo (another LA); Gus, NEET, a care
    // leaver of another LA with an EHC plan; Bo on SEN support. The splits
    // have no target of Kent's: "–" in the table, empty in CSV.
    let (code, groups, _) = run(&["report", "groups", "--format", "csv"]);
    assert_eq!(code, Some(0));
    for row in [
        "\nChildren in care,2,0,3,-3,0.0,0\n",
        "\nChildren in care: this LA,1,0,,,0.0,0\n",
        "\nChildren in care: other LA,1,0,,,0.0,0\n",
        "\nCare leaver,1,1,0,1,100.0,0\n",
        "\nCare leaver: this LA,0,0,,,0.0,0\n",
        "\nCare leaver: other LA,1,1,,,100.0,0\n",
        "\nSEND 16–18,2,1,2,-1,50.0,0\n",
        "\nSEND with EHC plan 16–18,1,1,,,100.0,0\n",
    ] {
        assert!(groups.contains(row), "{row:?} in {groups}");
    }
    let (_, table, _) = run(&["report", "groups"]);
    assert!(
        table.contains(
            "Care leaver: other LA                    1      1       –     –   100.0          0"
        ),
        "{table}"
    );
    // The 16–17 headline by group has no SEND 19+ row (always nobody there).
    let (_, by_group, _) = run(&["report", "headline", "--by", "group", "--format", "csv"]);
    assert!(
        by_group.contains("\nSEND with EHC plan 16–18,1,"),
        "{by_group}"
    );
    assert!(!by_group.contains("SEND 19+"), "{by_group}");
    // A winter not over yet, and a period of no known shape, are refused.
    let (code, _, err) = run(&["report", "headline", "--average", "dec-feb-2027"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("has not ended by 15/03/2027"), "{err}");
    let (code, _, err) = run(&["report", "headline", "--average", "summer"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("use dec-feb or dec-feb-YYYY"), "{err}");
}

/// Two young people whose January was recorded only in February.
fn build_late(dir: &std::path::Path) -> Replica {
    let mut f = Fixture { ops: vec![], n: 0 };
    let in_education_since = |start: NaiveDate| {
        FieldValue::CurrentActivity(CurrentActivity {
            code: ActivityCode::new(230).unwrap(),
            start,
            confirmed: d(2027, 2, 20),
            source: ActivitySource::YoungPerson,
            expected_end: None,
            provider: None,
        })
    };
    // Kay: first heard of on 20 February, in college since September.
    let kay = PersonId(uuid::Uuid::from_u128(0xF201));
    f.set(
        kay,
        d(2027, 2, 20),
        vec![
            FieldValue::Name(PersonName {
                given: "Kay".into(),
                family: "Fixture".into(),
                preferred: None,
            }),
            FieldValue::DateOfBirth(d(2010, 3, 1)),
            FieldValue::District(District::Dover),
            in_education_since(d(2026, 9, 5)),
        ],
    );
    // Lou: NEET in September (lapsed in December); on 20 February we learn
    // of college from 10 January.
    let lou = f.person(202, "Lou", d(2010, 3, 1), District::Dover, vec![]);
    f.activity(lou, 619, d(2026, 9, 10), None);
    f.set(
        lou,
        d(2027, 2, 20),
        vec![in_education_since(d(2027, 1, 10))],
    );
    f.store(dir)
}

#[test]
fn a_past_month_as_known_then_or_as_known_now() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    drop(build_late(&dir));
    let config_home = tmp.path().join("config");
    let run = |args: &[&str]| cli(&dir, &config_home, "2027-03-15", args);
    let january = |extra: &[&str]| {
        let mut args = vec![
            "report",
            "headline",
            "--as-of",
            "31/01/2027",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let (code, json, err) = run(&args);
        assert_eq!(code, Some(0), "{err}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let all = v["rows"][0].clone();
        (
            all["cohort"].as_u64().unwrap(),
            all["eet"].as_u64().unwrap(),
            all["not_known"].as_u64().unwrap(),
            v["known_as_of"].as_str().unwrap().to_string(),
        )
    };
    // Known then: Kay unknown, Lou's NEET lapsed.
    assert_eq!(january(&[]), (1, 0, 1, "2027-01-31".into()));
    // Known on 10 February: nothing new yet.
    assert_eq!(
        january(&["--known-as-of", "10/02/2027"]),
        (1, 0, 1, "2027-02-10".into())
    );
    // Known now: both were in college on 31 January.
    assert_eq!(
        january(&["--known-as-of", "today"]),
        (2, 2, 0, "2027-03-15".into())
    );
    let (_, table, _) = run(&[
        "report",
        "headline",
        "--as-of",
        "31/01/2027",
        "--known-as-of",
        "today",
    ]);
    assert!(
        table.contains("in effect on 31/01/2027 (activities from their start), as known at the end of 15/03/2027"),
        "{table}"
    );
    // The monthly file and the groups count the same way.
    let (code, nccis, err) = run(&[
        "report",
        "nccis",
        "--month",
        "2027-01",
        "--known-as-of",
        "today",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(nccis.lines().count(), 1 + 2, "{nccis}");
    let (code, _, _) = run(&[
        "report",
        "groups",
        "--as-of",
        "31/01/2027",
        "--known-as-of",
        "today",
    ]);
    assert_eq!(code, Some(0));
    // Known before the day counted, or in the future: refused.
    let (code, _, err) = run(&[
        "report",
        "headline",
        "--as-of",
        "31/01/2027",
        "--known-as-of",
        "01/01/2027",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("is before the date counted"), "{err}");
    let (code, _, err) = run(&["report", "headline", "--known-as-of", "tomorrow"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("is in the future"), "{err}");
    // The month in progress is counted as at today, and says so.
    let (code, _, err) = run(&["report", "nccis", "--month", "2027-03"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("as recorded at the end of 15/03/2027"),
        "{err}"
    );
    assert!(err.contains("March 2027 has not ended"), "{err}");
}

/// Six young people of academic age 16 whose risk was suggested on 31 October
/// 2026 and whose next year is known.
fn build_roni(dir: &std::path::Path) -> Replica {
    let mut f = Fixture { ops: vec![], n: 0 };
    let (sept, dob) = (d(2026, 9, 1), d(2010, 3, 1));
    let in_college = |f: &mut Fixture, p: PersonId, again: bool| {
        f.activity(p, 230, d(2026, 9, 10), None);
        if again {
            // Confirmed again for the next year, so currency never lapses.
            f.activity(p, 230, d(2027, 9, 5), None);
        }
    };
    // Red (looked after 2, pregnant 2, YOT 2, no offer 1): NEET in February.
    let red = f.person(
        301,
        "Rae",
        dob,
        District::Dover,
        vec![
            since(Characteristic::LookedAfterThisLa, sept),
            since(Characteristic::Pregnant, sept),
            since(Characteristic::SupervisedByYot, sept),
        ],
    );
    in_college(&mut f, red, false);
    f.activity(red, 619, d(2027, 2, 10), None);
    // Amber (SEN support 1, free school meals 1, no offer 1): stays in college.
    let amber = f.person(
        302,
        "Amy",
        dob,
        District::Dover,
        vec![
            FieldValue::Send(SendStatus::SenSupport),
            since(Characteristic::FreeSchoolMeals, sept),
        ],
    );
    in_college(&mut f, amber, true);
    // Amber on 31 October (looked after 2, pregnant 2, no offer 1): the YOT
    // order recorded in January was not known then.
    let late = f.person(
        306,
        "Lia",
        dob,
        District::Dover,
        vec![
            since(Characteristic::LookedAfterOtherLa, sept),
            since(Characteristic::Pregnant, sept),
        ],
    );
    in_college(&mut f, late, true);
    f.set(
        late,
        d(2027, 1, 5),
        vec![since(Characteristic::SupervisedByYot, sept)],
    );
    // Green (no offer 1): one stays, one is never confirmed again (Not Known
    // from September 2027, within 12 months but not 6).
    let stays = f.person(303, "Gil", dob, District::Dover, vec![]);
    in_college(&mut f, stays, true);
    let lapses = f.person(304, "Gus", dob, District::Dover, vec![]);
    in_college(&mut f, lapses, false);
    // Already NEET on 31 October: left out.
    let neet = f.person(305, "Ned", dob, District::Dover, vec![]);
    f.activity(neet, 619, d(2026, 10, 1), None);
    f.store(dir)
}

#[test]
fn the_risk_bands_are_back_tested_against_what_happened_and_the_weights_move_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    drop(build_roni(&dir));
    let config_home = tmp.path().join("config");
    let run = |args: &[&str]| cli(&dir, &config_home, "2027-11-15", args);
    // By default, a year back: 31 October 2026, both windows over by 15/11/2027.
    let (code, csv, err) = run(&["report", "roni", "--format", "csv"]);
    assert_eq!(code, Some(0), "{err}");
    let expected = "band,people,neet_or_not_known_within_6_months,percent_within_6_months,\
                    neet_or_not_known_within_12_months,percent_within_12_months\n\
                    Red,1,1,100.0,1,100.0\n\
                    Amber,2,0,0.0,0,0.0\n\
                    Green,2,0,0.0,1,50.0\n\
                    All,5,1,20.0,2,40.0\n";
    assert_eq!(csv, expected);
    let (_, json, _) = run(&["report", "roni", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["as_of"], "2026-10-31");
    assert_eq!(v["already_neet_or_not_known"], 1);
    // A window not over yet is said to be so.
    let (_, table, _) = run(&["report", "roni", "--as-of", "2027-06-30"]);
    assert!(table.contains("not over yet"), "{table}");
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
    // Weighing care at 0: Rae falls to Amber (5), Lia to Amber (3).
    std::fs::create_dir_all(config_home.join("caseload")).unwrap();
    std::fs::write(
        config_home.join("caseload/config.toml"),
        "[risk.weights]\nLookedAfterOrCareLeaver = 0\n",
    )
    .unwrap();
    let (code, csv, err) = run(&["report", "roni", "--format", "csv"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(csv.contains("\nRed,0,0,,0,\n"), "{csv}");
    assert!(csv.contains("\nAmber,3,1,33.3,1,33.3\n"), "{csv}");
}

/// The other returns' fixture, worked out by hand (today 23 November 2026).
fn build_returns(dir: &std::path::Path) -> Replica {
    let mut f = Fixture { ops: vec![], n: 0 };
    let (y11_last_year, y12_last_year, y11_now) = (d(2010, 3, 1), d(2009, 3, 1), d(2011, 3, 1));
    let offer = |year, status, kind| {
        move |on| {
            OpPayload::RecordOffer(SeptemberGuaranteeOffer {
                year,
                status,
                kind,
                provider: None,
                recorded_on: on,
            })
        }
    };
    let destination = |kind| {
        move |on| {
            OpPayload::RecordDestination(IntendedDestination {
                kind,
                provider: None,
                recorded_on: on,
            })
        }
    };
    // Amy: offered full-time education in Year 11; her activity was confirmed
    // in July, before she left school.
    let amy = f.person(401, "Amy", y11_last_year, District::Dover, vec![]);
    let made = offer(
        OfferYear::Year11,
        OfferStatus::OfferMade,
        Some(DestinationKind::FullTimeEducation),
    );
    f.op(amy, d(2026, 3, 1), made(d(2026, 3, 1)));
    f.activity(amy, 230, d(2026, 7, 15), None);
    // Ben: an offer without the kind of place.
    let ben = f.person(402, "Ben", y11_last_year, District::Dover, vec![]);
    let no_kind = offer(OfferYear::Year11, OfferStatus::OfferMade, None);
    f.op(ben, d(2026, 4, 1), no_kind(d(2026, 4, 1)));
    f.activity(ben, 230, d(2026, 9, 8), None);
    // Cal: no offer; NEET from 20 September, in college from 15 October.
    let cal = f.person(403, "Cal", y11_last_year, District::Dover, vec![]);
    f.activity(cal, 619, d(2026, 9, 20), None);
    f.activity(cal, 230, d(2026, 10, 15), None);
    // Hal: NEET from 5 October.
    let hal = f.person(408, "Hal", y11_last_year, District::Dover, vec![]);
    f.activity(hal, 619, d(2026, 10, 5), None);
    // Dan, Year 12 last year: an apprenticeship offer recorded as Year 11's.
    let dan = f.person(404, "Dan", y12_last_year, District::Dover, vec![]);
    let wrong_year = offer(
        OfferYear::Year11,
        OfferStatus::OfferAccepted,
        Some(DestinationKind::Apprenticeship),
    );
    f.op(dan, d(2026, 5, 1), wrong_year(d(2026, 5, 1)));
    f.activity(dan, 310, d(2026, 9, 1), Some(d(2028, 8, 31)));
    // Year 11 now: Eve intends an apprenticeship, Fay has nothing recorded,
    // Gil is undecided.
    let eve = f.person(405, "Eve", y11_now, District::Dover, vec![]);
    let apprenticeship = destination(DestinationKind::Apprenticeship);
    f.op(eve, d(2026, 10, 10), apprenticeship(d(2026, 10, 10)));
    let _fay = f.person(406, "Fay", y11_now, District::Dover, vec![]);
    let gil = f.person(407, "Gil", y11_now, District::Dover, vec![]);
    let undecided = destination(DestinationKind::Undecided);
    f.op(gil, d(2026, 11, 1), undecided(d(2026, 11, 1)));
    f.store(dir)
}

#[test]
fn the_other_returns_each_with_its_own_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    drop(build_returns(&dir));
    let run = |args: &[&str]| {
        let (code, out, err) = cli(&dir, &tmp.path().join("config"), "2026-11-23", args);
        assert_eq!(code, Some(0), "{err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let rows = |v: &serde_json::Value| -> Vec<(String, u64)> {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["count"].as_u64().unwrap() > 0)
            .map(|r| {
                (
                    r["category"].as_str().unwrap().to_string(),
                    r["count"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let problems = |v: &serde_json::Value| -> Vec<(String, String)> {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["problem"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let owned = |v: &[(&str, u64)]| {
        v.iter()
            .map(|(a, b)| (a.to_string(), *b))
            .collect::<Vec<_>>()
    };

    // Annual Activity Survey 2026 (the latest 1 November): Year 11 leavers
    // are Amy, Ben, Cal and Hal; Amy's activity predates September (and its
    // currency ended with the school year: Not Known).
    let v = run(&["report", "activity-survey", "--format", "json"]);
    assert_eq!(v[0]["of"], 4);
    assert_eq!(
        rows(&v[0]),
        owned(&[
            ("EET education", 2),
            ("NEET (available)", 1),
            ("Not known", 1)
        ])
    );
    assert_eq!(
        problems(&v[0]),
        vec![(
            "Amy Fixture".to_string(),
            "confirmed before Sept: not after Year 11".to_string()
        )]
    );

    // NEET joiners and leavers, September to October: Cal left into college,
    // Hal joined.
    let v = run(&[
        "report",
        "neet-flow",
        "--from",
        "2026-09",
        "--to",
        "2026-10",
        "--format",
        "json",
    ]);
    assert_eq!(
        rows(&v[0]),
        owned(&[
            ("NEET at the start", 1),
            ("joined NEET", 1),
            ("left NEET: into EET", 1),
            ("NEET at the end", 1)
        ])
    );
    assert!(problems(&v[0]).is_empty());

    // September Guarantee 2026: Year 11 of 2025/26 are Amy, Ben, Cal, Hal;
    // Year 12 is Dan, whose offer was recorded as Year 11's.
    let v = run(&["report", "guarantee", "--format", "json"]);
    assert_eq!(v[0]["of"], 4);
    assert_eq!(
        rows(&v[0]),
        owned(&[
            ("offer: Full-time education", 1),
            ("offer: kind not recorded", 1),
            ("no offer recorded", 2)
        ])
    );
    assert_eq!(
        problems(&v[0]),
        vec![(
            "Ben Fixture".to_string(),
            "offer made without the kind of place".to_string()
        )]
    );
    assert_eq!(rows(&v[1]), owned(&[("offer: Apprenticeship", 1)]));
    assert_eq!(
        problems(&v[1]),
        vec![(
            "Dan Fixture".to_string(),
            "offer for the other year group".to_string()
        )]
    );

    // Year 11's intended destinations now: Eve, Fay (none), Gil (undecided).
    let v = run(&["report", "destinations", "--format", "json"]);
    assert_eq!(v[0]["of"], 3);
    assert_eq!(
        rows(&v[0]),
        owned(&[
            ("Apprenticeship", 1),
            ("Undecided", 1),
            ("none recorded", 1)
        ])
    );
    assert_eq!(problems(&v[0]).len(), 2);
}

/// Residence by authority: Ann lives and learns here; Ben lives here and
/// learns in LA 305; Cal lives in 305 and learns here; Dee lives and learns in
/// 305 (moved away); Eve lives here and is NEET. The headline counts the
/// residents (Ann, Ben, Eve), wherever they learn; Cal and Dee are tracked.
fn build_residence(dir: &std::path::Path) -> Replica {
    use caseload::domain::residence::Residence;
    let mut f = Fixture { ops: vec![], n: 0 };
    let dob = d(2010, 3, 1);
    let sept = d(2026, 9, 10);
    for (n, name, lives, learns, code) in [
        (1, "Ann", "here", "here", 230),
        (2, "Ben", "here", "305", 230),
        (3, "Cal", "305", "here", 230),
        (4, "Dee", "305", "305", 619),
        (5, "Eve", "here", "here", 619),
    ] {
        let residence = Residence::parse(lives, learns).unwrap();
        let p = f.person(
            300 + n,
            name,
            dob,
            District::Dover,
            vec![FieldValue::Residence(residence)],
        );
        f.activity(p, code, sept, None);
    }
    f.store(dir)
}

#[test]
fn residents_are_counted_wherever_they_learn_and_other_authorities_residents_are_tracked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    drop(build_residence(&dir));
    let config_home = tmp.path().join("config");
    let run = |args: &[&str]| cli(&dir, &config_home, "2026-11-23", args);
    let headline = || {
        let (code, json, err) = run(&["report", "headline", "--format", "json"]);
        assert_eq!(code, Some(0), "{err}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        ["cohort", "eet", "neet"].map(|k| v["rows"][0][k].as_u64().unwrap())
    };
    assert_eq!(headline(), [3, 2, 1], "Ann, Ben and Eve");
    // The monthly file keeps everyone tracked, with both authorities.
    let (code, csv, err) = run(&["report", "nccis", "--month", "2026-11"]);
    assert_eq!(code, Some(0), "{err}");
    let header = csv.lines().next().unwrap();
    assert!(
        header.ends_with("la_of_residence,la_of_education"),
        "{header}"
    );
    for (name, tail) in [
        ("Ann", "this,this"),
        ("Ben", "this,305"),
        ("Cal", "305,this"),
        ("Dee", "305,305"),
    ] {
        assert!(
            csv.lines()
                .any(|l| l.contains(&format!(",{name},")) && l.ends_with(tail)),
            "{name}: {csv}"
        );
    }
    // Ann moves to LA 305 and stays at school here: no longer counted.
    let ann = "00000000-0000-0000-0000-00000000f12d";
    let (code, out, err) = run(&["details", ann, "--lives-in", "305"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("authority of residence"), "{out}");
    let (_, shown, _) = run(&["show", ann]);
    assert!(
        shown.contains("Residence: Lives in LA 305, learns here (tracked, not counted here)"),
        "{shown}"
    );
    assert_eq!(headline(), [2, 1, 1]);
    // A code that is no authority's is refused, and nothing changes.
    let (code, _, err) = run(&["details", ann, "--learns-in", "Bromley"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("three-digit DfE code"), "{err}");
    // A cohort file says the same with two columns.
    let file = tmp.path().join("cohort.csv");
    std::fs::write(
        &file,
        "given_name,family_name,date_of_birth,district,la_of_residence,la_of_education\n\
         Fay,Import,01/03/2010,Dover,305,here\n\
         Gil,Import,01/03/2010,Dover,,926\n\
         Hal,Import,01/03/2010,Dover,,\n",
    )
    .unwrap();
    let (code, _, err) = run(&["import", "cohort", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    // Gil (a resident learning in 926) and Hal (no columns: a resident) join
    // the cohort as Not Known; Fay does not.
    assert_eq!(headline(), [4, 1, 1]);
    std::fs::write(
        &file,
        "given_name,family_name,date_of_birth,district,la_of_residence\n\
         Ivy,Import,01/03/2010,Dover,Kent\n",
    )
    .unwrap();
    let (code, _, err) = run(&["import", "cohort", file.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("la_of_residence"), "{err}");
}
