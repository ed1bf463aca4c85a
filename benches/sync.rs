//! Sync over loopback against the real hub binary (`caseload hub serve` on
//! 127.0.0.1). A bench command: the figures asked for are medians over whole
//! syncs, a p99 and a rate.
//!
//! - push 1,000 ops from one officer's device + pull them on another's (goal ≤ 300 ms together)
//! - first sync of a tracker with a 5,000-person list (goal ≤ 3 s)
//! - 50 concurrent clients pushing: ops/s and p99 latency per push (goal ≥ 10,000 ops/s, p99 ≤ 100 ms)
//! - bytes on the wire for one contact attempt
//!
//! Run: `cargo bench --bench sync`.

mod common;

use caseload::demo::{DemoCohort, DemoSpec};
use caseload::domain::person::PersonName;
use caseload::domain::{
    Channel, ContactAttempt, District, FieldValue, Op, OpPayload, Outcome, PersonId, WorkerId,
};
use caseload::hub::store::{Credential, CredentialKind};
use caseload::hub::{HubStore, Role, SledHubStore, TrackingList, User, users};
use caseload::replica::Replica;
use caseload::store::crypto::KdfParams;
use caseload::sync::client;
use caseload::sync::protocol::{self, PushRequest};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FAST: KdfParams = KdfParams {
    m_cost: 8 * 1024,
    t_cost: 1,
    p_cost: 1,
};

fn add_user(store: &SledHubStore, name: &str, role: Role) -> String {
    store
        .put_user(&User {
            name: name.into(),
            role,
            district: None,
            revoked: false,
            created_millis: 0,
        })
        .expect("user");
    let token = users::new_token().expect("token");
    store
        .put_credential(
            users::token_hash(&token),
            &Credential {
                user: name.into(),
                kind: CredentialKind::Enrolment,
            },
        )
        .expect("cred");
    token
}

fn serve(data: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_caseload"))
        .args([
            "hub",
            "serve",
            "--data",
            data.to_str().expect("path"),
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("hub");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("line");
    (
        child,
        line.trim().rsplit(' ').next().expect("url").to_string(),
    )
}

fn device(dir: &Path, name: &str, url: &str, token: &str) -> Replica {
    let mut r = Replica::init(
        &dir.join(name),
        b"bench passphrase",
        WorkerId::new(name),
        FAST,
    )
    .expect("init");
    client::login(&mut r, url, token, None).expect("login");
    r
}

fn contact() -> OpPayload {
    OpPayload::LogContact(ContactAttempt {
        at: chrono::Local::now().naive_local(),
        channel: Channel::Phone,
        outcome: Outcome::NoAnswer,
        note: String::new(),
        follow_up: None,
    })
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    if std::env::args().any(|a| a == "ingest") {
        // `cargo bench --bench sync -- ingest`: only the concurrent pushes.
        for (batch, pushes) in [(20, 40), (10, 80)] {
            let data = tmp.path().join(format!("hub-{batch}"));
            println!("{}", concurrent(&data, tmp.path(), batch, pushes));
        }
        return;
    }
    let data = tmp.path().join("hub");
    let (t_smith, t_khan, t_tracker) = {
        let store = SledHubStore::open(&data, None).expect("hub store");
        let tokens = (
            add_user(&store, "j.smith", Role::Officer),
            add_user(&store, "a.khan", Role::Officer),
            add_user(&store, "t.one", Role::Tracker),
        );
        // A 5,000-person tracking list, from the demo cohort.
        let ops: Vec<Op> = DemoCohort::new(DemoSpec {
            people: 5000,
            seed: 21,
            today: common::today(),
        })
        .flatten()
        .collect();
        for chunk in ops.chunks(5000) {
            store.append(chunk, "import", 1).expect("append");
        }
        let members = store
            .summaries()
            .expect("summaries")
            .iter()
            .map(|s| s.id)
            .collect();
        store
            .put_list(&TrackingList {
                name: "bench".into(),
                trackers: ["t.one".to_string()].into(),
                members,
            })
            .expect("list");
        for i in 0..50 {
            add_user(&store, &format!("w{i}"), Role::Officer);
        }
        tokens
    };
    let (mut hub, url) = serve(&data);

    // Tracker's first sync.
    let mut tracker = device(tmp.path(), "t.one", &url, &t_tracker);
    let t = Instant::now();
    let report = client::sync(&mut tracker).expect("tracker sync");
    let tracker_first = t.elapsed();
    assert_eq!(tracker.index().len(), 5000);

    // Push 1,000 + pull 1,000 between two officers sharing 100 young people.
    let mut a = device(tmp.path(), "j.smith", &url, &t_smith);
    let mut b = device(tmp.path(), "a.khan", &url, &t_khan);
    let today = chrono::Local::now().date_naive();
    let people: Vec<PersonId> = (0..100)
        .map(|i| {
            a.register(
                vec![
                    FieldValue::Name(PersonName {
                        given: format!("P{i}"),
                        family: "Bench".into(),
                        preferred: None,
                    }),
                    FieldValue::DateOfBirth(
                        chrono::NaiveDate::from_ymd_opt(2010, 1, 1).expect("date"),
                    ),
                    FieldValue::District(District::Thanet),
                    FieldValue::AssignedWorkers(
                        [WorkerId::new("j.smith"), WorkerId::new("a.khan")].into(),
                    ),
                ],
                today,
            )
            .expect("register")
        })
        .collect();
    client::sync(&mut a).expect("sync a");
    client::sync(&mut b).expect("sync b");
    let mut together = Vec::new();
    for _ in 0..7 {
        let ops: Vec<Op> = (0..1000)
            .map(|i| a.new_op(people[i % 100], contact()))
            .collect();
        a.commit(&ops, caseload::store::Origin::Local)
            .expect("commit");
        let t = Instant::now();
        let pushed = client::sync(&mut a).expect("push");
        let pulled = client::sync(&mut b).expect("pull");
        together.push(t.elapsed());
        assert_eq!((pushed.pushed, pulled.pulled), (1000, 1000));
    }

    // Bytes for one contact attempt.
    let one = a.new_op(people[0], contact());
    let body = protocol::encode(&PushRequest { ops: vec![one] }).len();

    kill(&mut hub);
    let rates = [
        concurrent(&tmp.path().join("hub-200"), tmp.path(), 200, 10),
        concurrent(&tmp.path().join("hub-20"), tmp.path(), 20, 40),
    ];

    println!("sync benchmarks over 127.0.0.1 (hub: release build of caseload hub serve)");
    println!(
        "tracker first sync, 5,000-person list: {:.2?} ({} ops received) (goal <= 3 s)",
        tracker_first, report.pulled
    );
    println!(
        "push 1,000 ops + pull 1,000 ops: median {:.2?} over {} runs (goal <= 300 ms)",
        median(together.clone()),
        together.len()
    );
    println!(
        "bytes on the wire per contact attempt: {body} B request body (DEFLATE'd postcard) + HTTP headers"
    );
    for rate in rates {
        println!("{rate}");
    }
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// 50 clients (threads) push `pushes` batches of `batch` ops each, at once,
/// each client waiting for its answer before its next push (a closed loop:
/// by Little's law latency ≈ 50 × batch ÷ rate).
fn concurrent(data: &Path, dir: &Path, batch: usize, pushes: usize) -> String {
    let store = SledHubStore::open(data, None).expect("hub");
    let tokens: Vec<String> = (0..50)
        .map(|i| add_user(&store, &format!("c{i}"), Role::Admin))
        .collect();
    drop(store);
    let (mut hub, url) = serve(data);
    let logins: Vec<(String, String)> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let name = format!("c{i}");
            let r = device(
                &dir.join(format!("clients-{batch}")),
                &format!("client-{name}"),
                &url,
                &t,
            );
            let link = client::link(&r).expect("link").expect("logged in");
            (name, link.device_token.clone())
        })
        .collect();
    let start = Instant::now();
    let handles: Vec<_> = logins
        .into_iter()
        .map(|(name, token)| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let author = WorkerId::new(name.clone());
                let mut clock = caseload::sync::HlcClock::default();
                for round in 0..pushes {
                    // Fresh people each batch, stamped now, written by this client.
                    let mut ids = std::collections::HashMap::new();
                    let ops: Vec<Op> = DemoCohort::new(DemoSpec {
                        people: batch.div_ceil(5) + 1,
                        seed: (round * 1000 + name.len()) as u64,
                        today: common::today(),
                    })
                    .flatten()
                    .take(batch)
                    .map(|mut op| {
                        op.author = author.clone();
                        op.id = caseload::domain::OpId(uuid::Uuid::now_v7());
                        op.at = clock.tick(caseload::sync::clock::now_millis());
                        op.person = *ids.entry(op.person).or_insert_with(PersonId::random);
                        op
                    })
                    .collect();
                    let body = protocol::encode(&PushRequest { ops });
                    let t = Instant::now();
                    ureq::post(&format!("{url}/v1/push"))
                        .set("authorization", &format!("Bearer {token}"))
                        .send_bytes(&body)
                        .expect("push");
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("thread"))
        .collect();
    let elapsed = start.elapsed();
    kill(&mut hub);
    lat.sort_unstable();
    let ops = 50 * pushes * batch;
    format!(
        "50 concurrent clients, {ops} ops in {batch}-op pushes: {:.0} ops/s, push latency median {:.2?} p99 {:.2?} (goals >= 10,000 ops/s, p99 <= 100 ms)",
        ops as f64 / elapsed.as_secs_f64(),
        lat[lat.len() / 2],
        lat[(lat.len() as f64 * 0.99) as usize - 1]
    )
}
