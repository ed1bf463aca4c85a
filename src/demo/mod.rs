//! The demo cohort: synthetic young people, deterministic from a seed and the
//! reference date, in the shape of Kent's cohort (docs/demo.md): spread over the
//! twelve districts and years 12–14 plus SEND 19–24, about 5% NEET and 10% Not
//! Known, with histories of activities, contact attempts, ratings and notes.
//! Every record is made of real ops and goes through the ordinary fold.

mod names;

use crate::domain::activity::ActivitySource;
use crate::domain::details::reachable;
use crate::domain::ops::{FieldSet, Hlc};
use crate::domain::person::{
    Address, Characteristic, CharacteristicSpan, Consent, ConsentStatus, ContactPreferences,
    Gender, LevelOfNeed, PersonName, PhoneLabel, PhoneNumber, Postcode, RiskIndicators, SendStatus,
    SocialHandle, Uln, Upn,
};
use crate::domain::records::{
    DestinationKind, OfferStatus, OfferYear, Rag, RiskRating, SeptemberGuaranteeOffer,
};
use crate::domain::risk::{self, RiskConfig};
use crate::domain::{
    ActivityCode, Channel, ContactAttempt, CurrentActivity, DeviceId, District, FieldValue, Note,
    Op, OpId, OpPayload, Outcome, PersonId, PersonState, StatusGroup, WorkerId, academic,
};
use chrono::{Datelike, Days, NaiveDate, NaiveDateTime};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;

/// The largest demo cohort: Kent's.
pub const MAX_PEOPLE: usize = 52_500;
pub const DEFAULT_PEOPLE: usize = 2_000;
/// Printed when the demo store is made, and labelled demo-only everywhere.
pub const DEMO_PASSPHRASE: &str = "demo-only-not-secret";
/// The worker a demo store belongs to: "mine" filters to their caseload.
pub const DEMO_WORKER: &str = "demo.officer";
const OTHER_WORKERS: &[&str] = &["a.khan", "b.okafor", "c.murphy", "d.nowak", "e.shaw"];

/// District weights, roughly by the 16–18 population.
const DISTRICTS: &[(District, u32, &[&str], &str)] = &[
    (District::Dartford, 8, &["DA1", "DA2"], "Dartford"),
    (District::Gravesham, 8, &["DA11", "DA12"], "Gravesend"),
    (
        District::Sevenoaks,
        8,
        &["TN13", "TN14", "TN15"],
        "Sevenoaks",
    ),
    (
        District::Canterbury,
        9,
        &["CT1", "CT2", "CT6"],
        "Canterbury",
    ),
    (
        District::Swale,
        10,
        &["ME10", "ME12", "ME13"],
        "Sittingbourne",
    ),
    (District::Thanet, 10, &["CT9", "CT10", "CT11"], "Margate"),
    (District::Ashford, 9, &["TN23", "TN24"], "Ashford"),
    (District::Dover, 7, &["CT16", "CT17", "CT14"], "Dover"),
    (
        District::FolkestoneAndHythe,
        7,
        &["CT19", "CT20", "TN28"],
        "Folkestone",
    ),
    (
        District::Maidstone,
        11,
        &["ME14", "ME15", "ME16"],
        "Maidstone",
    ),
    (
        District::TonbridgeAndMalling,
        9,
        &["ME19", "ME20", "TN9"],
        "Tonbridge",
    ),
    (
        District::TunbridgeWells,
        8,
        &["TN1", "TN2", "TN4"],
        "Tunbridge Wells",
    ),
    (District::OutOfCounty, 3, &["SE9", "BR1", "RH1"], "Bromley"),
];

/// Characteristics and their share of the cohort (before the NEET uplift).
const CHARACTERISTICS: &[(Characteristic, f64)] = &[
    (Characteristic::LookedAfterThisLa, 0.008),
    (Characteristic::LookedAfterOtherLa, 0.003),
    (Characteristic::CareLeaverThisLa, 0.006),
    (Characteristic::CareLeaverOtherLa, 0.002),
    (Characteristic::RefugeeAsylumSeeker, 0.002),
    (Characteristic::Uasc, 0.002),
    (Characteristic::Pregnant, 0.004),
    (Characteristic::ParentCaring, 0.008),
    (Characteristic::ParentNotCaring, 0.001),
    (Characteristic::CarerNotOwnChild, 0.004),
    (Characteristic::SubstanceMisuse, 0.003),
    (Characteristic::SupervisedByYot, 0.006),
    (Characteristic::AlternativeProvision, 0.01),
    (Characteristic::FreeSchoolMeals, 0.12),
    (Characteristic::ElectiveHomeEducation, 0.008),
    (Characteristic::PupilReferralUnit, 0.004),
];

#[derive(Clone, Debug)]
pub struct DemoSpec {
    pub people: usize,
    pub seed: u64,
    pub today: NaiveDate,
}

/// Generates the cohort one person at a time, so a 52,500-person store never
/// has to sit in memory as ops.
pub struct DemoCohort {
    spec: DemoSpec,
    rng: ChaCha8Rng,
    made: usize,
    device: DeviceId,
    risk: RiskConfig,
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

/// Choices and how often each is drawn.
type Weights<T> = &'static [(T, u32)];

fn pick_weighted<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total);
    for (item, w) in items {
        if roll < *w {
            return *item;
        }
        roll -= w;
    }
    items[items.len() - 1].0
}

fn code(c: u16) -> ActivityCode {
    ActivityCode::new(c).unwrap_or(ActivityCode::NOT_KNOWN)
}

fn millis(at: NaiveDateTime) -> u64 {
    at.and_utc().timestamp_millis().max(0) as u64
}

impl DemoCohort {
    /// Every op of `people` demo young people as of 23/11/2026, for tests.
    #[cfg(test)]
    pub(crate) fn test_ops(people: usize, seed: u64) -> Vec<crate::domain::Op> {
        DemoCohort::new(DemoSpec {
            people,
            seed,
            today: NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
        })
        .flatten()
        .collect()
    }

    pub fn new(spec: DemoSpec) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let mut dev = [0u8; 16];
        rng.fill_bytes(&mut dev);
        Self {
            device: DeviceId(uuid::Builder::from_random_bytes(dev).into_uuid()),
            spec,
            rng,
            made: 0,
            risk: RiskConfig::default(),
        }
    }

    fn day_between(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let span = (to - from).num_days().max(0) as u64;
        from + Days::new(self.rng.gen_range(0..=span))
    }

    /// A time in working hours on `day`. The demo is the record as it stood when
    /// the store was made, so nothing is stamped on the day itself (a time later
    /// today would be in the future): such events move to the day before.
    fn working_time(&mut self, day: NaiveDate) -> NaiveDateTime {
        let (h, m) = (self.rng.gen_range(9..17), self.rng.gen_range(0..60));
        let day = day.min(self.spec.today - Days::new(1));
        day.and_hms_opt(h, m, 0).unwrap_or_default()
    }

    fn op(&mut self, person: PersonId, at: NaiveDateTime, author: &str, payload: OpPayload) -> Op {
        let ms = millis(at);
        let mut rand_bytes = [0u8; 10];
        self.rng.fill_bytes(&mut rand_bytes);
        Op {
            id: OpId(uuid::Builder::from_unix_timestamp_millis(ms, &rand_bytes).into_uuid()),
            at: Hlc::new(ms, 0),
            author: WorkerId::new(author),
            device: self.device,
            person,
            payload,
        }
    }

    /// The ops that make one synthetic young person.
    pub fn next_person(&mut self) -> Vec<Op> {
        let today = self.spec.today;
        let rng = &mut self.rng;
        let mut id_bytes = [0u8; 16];
        rng.fill_bytes(&mut id_bytes);
        let id = PersonId(uuid::Builder::from_random_bytes(id_bytes).into_uuid());

        // Who they are.
        let year_start = academic::academic_year_start(today).year();
        let roll: f64 = rng.r#gen();
        let (academic_age, send_adult) = match roll {
            r if r < 0.31 => (16, false),
            r if r < 0.62 => (17, false),
            r if r < 0.88 => (18, false),
            _ => (rng.gen_range(19..=24), true),
        };
        let born_from =
            NaiveDate::from_ymd_opt(year_start - academic_age - 1, 9, 1).unwrap_or(today);
        let born_to = NaiveDate::from_ymd_opt(year_start - academic_age, 8, 31).unwrap_or(today);
        let gender = pick_weighted(
            rng,
            &[
                (Gender::Female, 49),
                (Gender::Male, 49),
                (Gender::NonBinary, 1),
                (Gender::NotKnown, 1),
            ],
        );
        let given = match gender {
            Gender::Female => *pick(rng, names::GIVEN_FEMALE),
            Gender::Male => *pick(rng, names::GIVEN_MALE),
            _ => *pick(rng, names::GIVEN_OTHER),
        };
        let family = *pick(rng, names::FAMILY);
        let preferred = names::NICKNAMES
            .iter()
            .find(|(full, _)| *full == given)
            .filter(|_| rng.gen_bool(0.5))
            .map(|(_, short)| short.to_string());
        let district_weights: Vec<(usize, u32)> = DISTRICTS
            .iter()
            .enumerate()
            .map(|(i, d)| (i, d.1))
            .collect();
        let (district, _, outwards, town) = DISTRICTS[pick_weighted(rng, &district_weights)];
        let send = if send_adult {
            SendStatus::EhcPlan
        } else {
            pick_weighted(
                rng,
                &[
                    (SendStatus::NoSend, 86),
                    (SendStatus::SenSupport, 10),
                    (SendStatus::EhcPlan, 4),
                ],
            )
        };

        // What they are doing: about 5% NEET, 10% Not Known.
        let status = pick_weighted(
            rng,
            &[
                (StatusGroup::Eet, 845),
                (StatusGroup::Neet, 50),
                (StatusGroup::NotKnown, 100),
                (StatusGroup::Other, 5),
            ],
        );
        let current_code = match status {
            StatusGroup::Neet => pick_weighted(
                rng,
                &[
                    (619, 55),
                    (610, 14),
                    (630, 8),
                    (640, 7),
                    (620, 4),
                    (615, 4),
                    (616, 3),
                    (650, 2),
                    (680, 2),
                    (540, 1),
                ],
            ),
            StatusGroup::NotKnown => pick_weighted(rng, &[(810, 72), (820, 20), (830, 8)]),
            StatusGroup::Other => pick_weighted(rng, &[(710, 1), (720, 1)]),
            _ if send_adult => pick_weighted(
                rng,
                &[(280, 30), (230, 30), (460, 20), (360, 10), (430, 10)],
            ),
            _ => pick_weighted(
                rng,
                &[
                    (210, 40),
                    (220, 10),
                    (230, 27),
                    (310, 8),
                    (320, 2),
                    (330, 4),
                    (340, 1),
                    (360, 1),
                    (410, 2),
                    (430, 1),
                    (450, 1),
                    (460, 1),
                    (250, 1),
                    (280, 1),
                ],
            ),
        };
        let struggling = matches!(status, StatusGroup::Neet | StatusGroup::NotKnown);
        let uplift = if struggling { 4.0 } else { 1.0 };

        let dob = self.day_between(born_from, born_to);
        let rng = &mut self.rng;
        let mut characteristics = Vec::new();
        for (c, p) in CHARACTERISTICS {
            if rng.gen_bool((p * uplift).min(0.9)) {
                characteristics.push(*c);
            }
        }
        if gender != Gender::Female {
            characteristics.retain(|c| *c != Characteristic::Pregnant);
        }
        let level_of_need = if struggling || characteristics.len() > 1 {
            Some(pick_weighted(
                rng,
                &[
                    (LevelOfNeed::Intensive, 2),
                    (LevelOfNeed::Extra, 5),
                    (LevelOfNeed::Minimum, 3),
                ],
            ))
        } else if rng.gen_bool(0.3) {
            Some(LevelOfNeed::Minimum)
        } else {
            None
        };
        let indicators = RiskIndicators {
            attendance_below_90: rng.gen_bool(if struggling { 0.5 } else { 0.08 }),
            exclusions: rng.gen_bool(if struggling { 0.35 } else { 0.04 }),
            english_additional_language: rng.gen_bool(0.12),
            not_on_track_level2: rng.gen_bool(if struggling { 0.6 } else { 0.2 }),
        };
        let outward = *pick(rng, outwards);
        let inward_letters = b"ABDEFGHJLNPQRSTUWXYZ";
        let postcode = format!(
            "{outward} {}{}{}",
            rng.gen_range(1..10),
            inward_letters[rng.gen_range(0..inward_letters.len())] as char,
            inward_letters[rng.gen_range(0..inward_letters.len())] as char
        );
        let mut phones = vec![PhoneNumber {
            label: PhoneLabel::Mobile,
            number: format!("07700 900{:03}", rng.gen_range(0..1000)),
        }];
        if rng.gen_bool(0.5) {
            phones.push(PhoneNumber {
                label: PhoneLabel::ParentCarer,
                number: format!("01632 960{:03}", rng.gen_range(0..1000)),
            });
        }
        let ascii = |s: &str| {
            s.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_lowercase()
        };
        let email = rng.gen_bool(0.6).then(|| {
            format!(
                "{}.{}{}@example.org",
                ascii(given),
                ascii(family),
                rng.gen_range(1..100)
            )
        });
        let social = if rng.gen_bool(0.2) {
            vec![SocialHandle {
                platform: "Facebook".into(),
                handle: format!(
                    "{}.{}.{}",
                    ascii(given),
                    ascii(family),
                    rng.gen_range(1..1000)
                ),
            }]
        } else {
            Vec::new()
        };
        let upn = rng
            .gen_bool(0.85)
            .then(|| Upn::parse(&format!("A886{:09}", rng.gen_range(0..1_000_000_000u64))).ok())
            .flatten();
        let uln = rng
            .gen_bool(0.6)
            .then(|| {
                Uln::parse(&format!(
                    "{:010}",
                    rng.gen_range(1_000_000_000u64..10_000_000_000)
                ))
                .ok()
            })
            .flatten();
        let mut assigned = BTreeSet::new();
        // About one in twelve belongs to the demo officer (a caseload of ~170 in 2,000).
        if rng.gen_bool(0.085) {
            assigned.insert(WorkerId::new(DEMO_WORKER));
        } else {
            assigned.insert(WorkerId::new(*pick(rng, OTHER_WORKERS)));
        }
        let school = pick(rng, names::SCHOOLS).to_string();
        let provider = match code(current_code).sub_group() {
            crate::domain::codes::SubGroup::Education if current_code == 210 => {
                Some(school.clone())
            }
            crate::domain::codes::SubGroup::Education
            | crate::domain::codes::SubGroup::Training => {
                Some(pick(rng, names::COLLEGES).to_string())
            }
            crate::domain::codes::SubGroup::Employment => {
                Some(pick(rng, names::EMPLOYERS).to_string())
            }
            _ => None,
        };
        let house = rng.gen_range(1..200);
        let street = *pick(rng, names::STREETS);
        let consent_given = rng.gen_bool(0.7);

        // Registration: when they entered post-16 tracking (Year 11 spring).
        let registered_on = NaiveDate::from_ymd_opt(year_start - academic_age + 15, 3, 1)
            .unwrap_or(today)
            .max(dob)
            .min(today);
        let registered_at = self.working_time(registered_on);
        let char_start = registered_on - Days::new(self.rng.gen_range(0..400));
        let mut fields = vec![
            FieldValue::Name(PersonName {
                given: given.into(),
                family: family.into(),
                preferred: preferred.map(Into::into),
            }),
            FieldValue::DateOfBirth(dob),
            FieldValue::Gender(gender),
            FieldValue::Upn(upn),
            FieldValue::Uln(uln),
            FieldValue::Address(Address {
                lines: vec![format!("{house} {street}")],
                town: town.into(),
                postcode: Postcode::parse(&postcode).ok(),
            }),
            FieldValue::Phones(phones),
            FieldValue::Email(email),
            FieldValue::Social(social),
            FieldValue::ContactPreferences(ContactPreferences::default()),
            FieldValue::Consent(Consent {
                status: if consent_given {
                    ConsentStatus::Given
                } else {
                    ConsentStatus::NotAsked
                },
                recorded_on: consent_given.then_some(registered_on),
                note: String::new(),
            }),
            FieldValue::District(district),
            FieldValue::SchoolOrProvider(Some(school)),
            FieldValue::Send(send),
            FieldValue::LevelOfNeed(level_of_need),
            FieldValue::RiskIndicators(indicators),
            FieldValue::AssignedWorkers(assigned.clone()),
        ];
        for c in &characteristics {
            fields.push(FieldValue::Characteristic(
                *c,
                Some(CharacteristicSpan {
                    start: char_start.max(dob),
                    end: None,
                }),
            ));
        }
        let sets = |values: Vec<FieldValue>, supersedes: Vec<OpId>| {
            OpPayload::SetFields(
                values
                    .into_iter()
                    .map(|value| FieldSet {
                        value,
                        supersedes: supersedes.clone(),
                    })
                    .collect(),
            )
        };
        let mut ops = vec![self.op(id, registered_at, "import", sets(fields, vec![]))];
        // The details an attempt can use, as first recorded.
        let registered = PersonState::fold(id, &ops).young_person();

        // Activity history: sometimes an earlier activity, then the current one.
        let this_september = NaiveDate::from_ymd_opt(year_start, 9, 1).unwrap_or(today);
        let mut previous_activity: Option<OpId> = None;
        if struggling || self.rng.gen_bool(0.25) {
            let earlier = if struggling {
                pick_weighted(&mut self.rng, &[(230, 5), (210, 3), (310, 2)])
            } else {
                230
            };
            let start = NaiveDate::from_ymd_opt(year_start - 1, 9, 1)
                .unwrap_or(today)
                .max(registered_on);
            let at = self.working_time(start.min(today));
            let a = CurrentActivity {
                code: code(earlier),
                start,
                confirmed: start,
                source: ActivitySource::EnrolmentReturn,
                expected_end: NaiveDate::from_ymd_opt(year_start, 8, 31),
                provider: Some(pick(&mut self.rng, names::COLLEGES).to_string().into()),
            };
            let op = self.op(
                id,
                at,
                "import",
                sets(vec![FieldValue::CurrentActivity(a)], vec![]),
            );
            previous_activity = Some(op.id);
            ops.push(op);
        }
        let start = if struggling {
            self.day_between(
                this_september.min(today) - Days::new(120),
                today - Days::new(14),
            )
        } else {
            this_september.min(today)
        }
        .max(registered_on);
        let confirmed = self.day_between(start, today);
        let expected_end = match code(current_code).sub_group() {
            crate::domain::codes::SubGroup::Education
            | crate::domain::codes::SubGroup::Training => {
                NaiveDate::from_ymd_opt(year_start + 1, 8, 31)
            }
            _ if current_code == 310 => Some(start + Days::new(540)),
            _ => None,
        };
        let source = if struggling {
            ActivitySource::YoungPerson
        } else {
            ActivitySource::EnrolmentReturn
        };
        let current = CurrentActivity {
            code: code(current_code),
            start,
            confirmed,
            source,
            expected_end,
            provider: provider.map(Into::into),
        };
        let at = self.working_time(confirmed);
        let supersede = previous_activity.into_iter().collect();
        ops.push(self.op(
            id,
            at,
            "import",
            sets(vec![FieldValue::CurrentActivity(current)], supersede),
        ));

        // Contact attempts: many for Not Knowns (mostly failing), some for NEETs.
        let worker = assigned
            .iter()
            .next()
            .map(|w| w.0.clone())
            .unwrap_or_default();
        let attempts = match status {
            StatusGroup::NotKnown => self.rng.gen_range(2..=7),
            StatusGroup::Neet => self.rng.gen_range(2..=6),
            _ => self.rng.gen_range(0..=2),
        };
        let mut days: Vec<NaiveDate> = (0..attempts)
            .map(|_| self.day_between((today - Days::new(100)).max(registered_on), today))
            .collect();
        days.sort();
        for (i, day) in days.iter().enumerate() {
            let last = i + 1 == days.len();
            let (channels, outcomes): (Weights<Channel>, Weights<Outcome>) = match status {
                StatusGroup::NotKnown => (
                    &[
                        (Channel::Phone, 6),
                        (Channel::Text, 2),
                        (Channel::Letter, 2),
                        (Channel::SocialMedia, 2),
                        (Channel::Email, 1),
                        (Channel::HomeVisit, 1),
                    ],
                    &[
                        (Outcome::NoAnswer, 6),
                        (Outcome::VoicemailLeft, 3),
                        (Outcome::WrongNumber, 2),
                        (Outcome::SentNoReply, 2),
                        (Outcome::PostReturned, 1),
                        (Outcome::SpokeToParentCarer, 1),
                    ],
                ),
                StatusGroup::Neet => (
                    &[
                        (Channel::Phone, 6),
                        (Channel::Text, 2),
                        (Channel::FaceToFace, 2),
                        (Channel::HomeVisit, 1),
                    ],
                    &[
                        (Outcome::SpokeToYoungPerson, 5),
                        (Outcome::NoAnswer, 3),
                        (Outcome::VoicemailLeft, 2),
                        (Outcome::SpokeToParentCarer, 1),
                        (Outcome::Refused, 1),
                    ],
                ),
                _ => (
                    &[
                        (Channel::Phone, 4),
                        (Channel::ViaSchool, 2),
                        (Channel::ViaCollege, 2),
                        (Channel::Email, 1),
                    ],
                    &[
                        (Outcome::SpokeToYoungPerson, 5),
                        (Outcome::SpokeToThirdParty, 3),
                        (Outcome::NoAnswer, 2),
                    ],
                ),
            };
            let channel = pick_weighted(&mut self.rng, channels);
            // Only outcomes that go with the channel (a letter is never "no answer").
            let fitting: Vec<(Outcome, u32)> = outcomes
                .iter()
                .filter(|(o, _)| channel.allows(*o))
                .copied()
                .collect();
            let outcome = match fitting.as_slice() {
                [] => channel.outcomes()[0],
                fitting => pick_weighted(&mut self.rng, fitting),
            };
            let follow_up =
                (last && struggling).then(|| *day + Days::new(self.rng.gen_range(5..21)));
            let note = if self.rng.gen_bool(0.3) {
                pick(&mut self.rng, names::NOTE_TEMPLATES).to_string()
            } else {
                String::new()
            };
            let at = self.working_time(*day);
            let author = if status == StatusGroup::NotKnown && self.rng.gen_bool(0.5) {
                "tracking.team"
            } else {
                worker.as_str()
            };
            ops.push(
                self.op(
                    id,
                    at,
                    author,
                    OpPayload::log_contact(
                        ContactAttempt {
                            at,
                            channel,
                            outcome,
                            note,
                            follow_up,
                        },
                        registered
                            .as_ref()
                            .and_then(|p| reachable(p, channel).into_iter().next()),
                    ),
                ),
            );
        }

        // Notes.
        for _ in 0..self.rng.gen_range(0..=if struggling { 2 } else { 1 }) {
            let day = self.day_between((today - Days::new(200)).max(registered_on), today);
            let at = self.working_time(day);
            let text = pick(&mut self.rng, names::NOTE_TEMPLATES).to_string();
            ops.push(self.op(id, at, &worker, OpPayload::AddNote(Note { text })));
        }

        // September Guarantee for Year 12s.
        if academic_age == 16 && self.rng.gen_bool(0.9) {
            let offered = !struggling || self.rng.gen_bool(0.4);
            let recorded_on = NaiveDate::from_ymd_opt(year_start, 6, 30)
                .unwrap_or(today)
                .min(today)
                .max(registered_on);
            let at = self.working_time(recorded_on);
            let offer = SeptemberGuaranteeOffer {
                year: OfferYear::Year11,
                status: if offered {
                    OfferStatus::OfferAccepted
                } else {
                    OfferStatus::NoOffer
                },
                kind: offered.then_some(DestinationKind::FullTimeEducation),
                provider: None,
                recorded_on,
            };
            ops.push(self.op(id, at, "import", OpPayload::RecordOffer(offer)));
        }

        // The officer's rating, from the computed suggestion (sometimes overridden).
        if struggling || !characteristics.is_empty() || self.rng.gen_bool(0.15) {
            let state = PersonState::fold(id, &ops);
            let rated_on = self.day_between((today - Days::new(60)).max(registered_on), today);
            let suggestion = risk::suggest(&state, rated_on, &self.risk);
            let rag = if self.rng.gen_bool(0.15) {
                match suggestion.rag {
                    Rag::Green => Rag::Amber,
                    Rag::Amber => Rag::Red,
                    Rag::Red => Rag::Amber,
                }
            } else {
                suggestion.rag
            };
            let reason = pick(&mut self.rng, names::RATING_REASONS).to_string();
            let rating = RiskRating {
                rag,
                reason,
                factors: suggestion.factors.iter().map(|(f, _)| *f).collect(),
                rated_on,
                review_due: self.risk.review_due(rag, rated_on),
            };
            let at = self.working_time(rated_on);
            ops.push(self.op(id, at, &worker, OpPayload::RateRisk(rating)));
        }
        self.made += 1;
        ops
    }
}

impl Iterator for DemoCohort {
    type Item = Vec<Op>;
    fn next(&mut self) -> Option<Vec<Op>> {
        (self.made < self.spec.people).then(|| self.next_person())
    }
}
