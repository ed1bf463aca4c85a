//! Sync over loopback against the real hub binary (`caseload hub serve` on
//! 127.0.0.1). A bench command: the figures asked for are medians over whole
//! syncs, a p99 and a rate.
//!
//! - push 1,000 ops from one officer's device + pull them on another's (goal ≤ 300 ms together)
//! - first sync of a tracker with a 5,000-person list (goal ≤ 3 s)
//! - 50 concurrent clients pushing, flat out and paced at 10,000 ops/s: ops/s and p99 latency
//!   per push (goal ≥ 10,000 ops/s, p99 ≤ 100 ms)
//! - bytes on the wire for one contact attempt
//!
//! The push and pull and the flat-out ingest each print their ratio to their
//! physical limit, measured in the same run (`floor/wire.rs`): the same bodies
//! over 127.0.0.1 to a server that only makes them durable.
//!
//! Run: `cargo bench --bench sync`.

mod common;
#[path = "floor/wire.rs"]
mod wire_floor;

use caseload::demo::{DemoCohort, DemoSpec};
use caseload::domain::person::PersonName;
use caseload::domain::{
    Channel, ContactAttempt, District, FieldValue, Op, OpPayload, Outcome, PersonId, WorkerId,
};
use caseload::hub::store::{Credential, CredentialKind};
use caseload::hub::{HubStore, Role, SledHubStore, TrackingList, User, users};
use caseload::link;
use caseload::replica::Replica;
use caseload::store::crypto::KdfParams;
use caseload::sync::protocol::{self, PushRequest};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FAST: KdfParams = KdfParams::LEAST;

/// The ingest runs: flat out (the most the hub takes) and paced at the goal's
/// 10,000 ops/s (the latency a push sees at that load), in large and small pushes.
const INGEST_RUNS: [(&str, usize, usize, Load); 4] = [
    ("hub-200", 200, 10, Load::Flat),
    ("hub-20", 20, 40, Load::Flat),
    ("hub-200-paced", 200, 10, Load::Paced(10_000)),
    ("hub-20-paced", 20, 50, Load::Paced(10_000)),
];

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
    link::login(&mut r, url, token, None).expect("login");
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
        for (name, batch, pushes, load) in INGEST_RUNS {
            println!(
                "{}",
                concurrent(&tmp.path().join(name), tmp.path(), batch, pushes, load)
            );
        }
        return;
    }
    if std::env::args().any(|a| a == "ingest-store") {
        // `cargo bench --bench sync -- ingest-store`: the same pushes straight
        // into `Hub::push` (no HTTP), to tell the store's share from the network's.
        for batch in [20, 10] {
            println!(
                "{}",
                in_process(
                    &tmp.path().join(format!("store-{batch}")),
                    batch,
                    800 / batch
                )
            );
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
    let report = link::sync(&mut tracker).expect("tracker sync");
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
                        given: format!("P{i}").into(),
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
    link::sync(&mut a).expect("sync a");
    link::sync(&mut b).expect("sync b");
    let (mut together, mut push_alone) = (Vec::new(), Vec::new());
    let floor = wire_floor::FloorServer::start(tmp.path());
    let mut floor_device = wire_floor::InPlace::new(&tmp.path().join("floor-device"), 1 << 20);
    let (mut floor_times, mut body_len) = (Vec::new(), 0);
    for _ in 0..7 {
        let ops: Vec<Op> = (0..1000)
            .map(|i| a.new_op(people[i % 100], contact()))
            .collect();
        let body = protocol::encode(&PushRequest { ops: ops.clone() });
        a.commit(&ops, caseload::store::Origin::Local)
            .expect("commit");
        let t = Instant::now();
        let pushed = link::sync(&mut a).expect("push");
        let half = t.elapsed();
        let pulled = link::sync(&mut b).expect("pull");
        together.push(t.elapsed());
        push_alone.push(half);
        assert_eq!((pushed.pushed, pulled.pulled), (1000, 1000));
        // Its floor, interleaved: the same body up, made durable there, as
        // many bytes back (the pull carries the same ops), made durable here.
        let t = Instant::now();
        wire_floor::exchange(floor.addr(), &body, 0);
        let back = wire_floor::exchange(floor.addr(), &[], body.len());
        floor_device.write(&back);
        floor_device.sync();
        floor_times.push(t.elapsed());
        body_len = body.len();
    }
    drop(floor);

    // Bytes for one contact attempt.
    let one = a.new_op(people[0], contact());
    let body = protocol::encode(&PushRequest { ops: vec![one] }).len();

    kill(&mut hub);
    // `cargo bench --bench sync -- push-pull`: without the ingest runs.
    let only_push_pull = std::env::args().any(|a| a == "push-pull");
    let rates: Vec<String> = INGEST_RUNS
        .into_iter()
        .filter(|_| !only_push_pull)
        .map(|(name, batch, pushes, load)| {
            concurrent(&tmp.path().join(name), tmp.path(), batch, pushes, load)
        })
        .collect();

    println!("sync benchmarks over 127.0.0.1 (hub: release build of caseload hub serve)");
    println!(
        "tracker first sync, 5,000-person list: {:.2?} ({} ops received) (goal <= 3 s)",
        tracker_first, report.pulled
    );
    let (synced, floor) = (median(together.clone()), median(floor_times));
    println!(
        "push 1,000 ops + pull 1,000 ops: median {synced:.2?} over {} runs (goal <= 300 ms; the performance issue: <= 50 ms)",
        together.len()
    );
    println!(
        "  its floor, interleaved: the same {body_len} B up and back over 127.0.0.1, made durable at each end: median {floor:.2?}; ratio {:.1}",
        synced.as_secs_f64() / floor.as_secs_f64()
    );
    println!(
        "  of which the push (the device's sync that sends them): median {:.2?}",
        median(push_alone)
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

/// How the 50 clients send their pushes.
#[derive(Clone, Copy)]
enum Load {
    /// Each client sends its next push as soon as the last is answered (a
    /// closed loop: by Little's law latency ≈ 50 × batch ÷ rate).
    Flat,
    /// Together the clients offer this many ops a second, each on its own
    /// schedule; a push's latency counts from when it was due, so a push held
    /// up behind a slow one is not let off (no coordinated omission).
    Paced(usize),
}

/// 50 clients (threads), each with its own hub user and device credential,
/// push `pushes` batches of `batch` ops.
fn concurrent(data: &Path, dir: &Path, batch: usize, pushes: usize, load: Load) -> String {
    let store = SledHubStore::open(data, None).expect("hub");
    let tokens: Vec<String> = (0..50)
        .map(|i| add_user(&store, &format!("c{i}"), Role::Admin))
        .collect();
    drop(store);
    let (mut hub, url) = serve(data);
    // Each client's pushes are built before the clock starts: on this one
    // machine the clients share the hub's two cores, and building ops is the
    // devices' work, not the hub's.
    let clients: Vec<(String, Vec<Vec<u8>>)> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let name = format!("c{i}");
            let r = device(
                &dir.join(format!(
                    "clients-{}",
                    data.file_name().and_then(|n| n.to_str()).unwrap_or("hub")
                )),
                &format!("client-{name}"),
                &url,
                &t,
            );
            let token = link::link(&r)
                .expect("link")
                .expect("logged in")
                .device_token
                .clone();
            let bodies = push_batches(&name, r.identity().device, batch, pushes)
                .into_iter()
                .map(|ops| protocol::encode(&PushRequest { ops }))
                .collect();
            (token, bodies)
        })
        .collect();
    // The floor of a flat-out run: the same pushes, after the hub's run.
    let floor_bodies: Option<Vec<Vec<Vec<u8>>>> = matches!(load, Load::Flat)
        .then(|| clients.iter().map(|(_, bodies)| bodies.clone()).collect());
    let interval = match load {
        Load::Flat => Duration::ZERO,
        Load::Paced(rate) => Duration::from_secs_f64((50 * batch) as f64 / rate as f64),
    };
    let start = Instant::now();
    let handles: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, (token, bodies))| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                // Staggered, so the offered load is even rather than in bursts.
                let mut due = start + interval * i as u32 / 50;
                for body in bodies {
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let t = if interval.is_zero() {
                        Instant::now()
                    } else {
                        due
                    };
                    // A connection of its own, as each sync of a device makes.
                    ureq::post(&format!("{url}/v1/push"))
                        .set("authorization", &format!("Bearer {token}"))
                        .send_bytes(&body)
                        .expect("push");
                    lat.push(t.elapsed());
                    due += interval;
                }
                lat
            })
        })
        .collect();
    let (figures, rate) = rate_and_latency(handles, start, batch);
    kill(&mut hub);
    let how = match load {
        Load::Flat => "flat out".to_string(),
        Load::Paced(rate) => format!("offered {rate} ops/s"),
    };
    let against_floor = floor_bodies.map_or(String::new(), |bodies| {
        let floor = floor_rate(dir, bodies, batch);
        format!(
            "\n  its floor, the same pushes made durable by a server that does nothing else: {floor:.0} ops/s; ratio {:.1}",
            floor / rate
        )
    });
    format!(
        "50 concurrent clients, {how}, {figures} (goals >= 10,000 ops/s, p99 <= 100 ms; the performance issue: >= 40,000 ops/s flat out, p99 <= 20 ms paced){against_floor}"
    )
}

/// The rate of the same pushes, each client on its own thread and each push
/// on a connection of its own, sent to the floor server flat out.
fn floor_rate(dir: &Path, clients: Vec<Vec<Vec<u8>>>, batch: usize) -> f64 {
    let floor = wire_floor::FloorServer::start(dir);
    let addr = floor.addr();
    let start = Instant::now();
    let pushers: Vec<_> = clients
        .into_iter()
        .map(|bodies| {
            std::thread::spawn(move || {
                for body in &bodies {
                    wire_floor::exchange(addr, body, 0);
                }
                bodies.len()
            })
        })
        .collect();
    let pushes: usize = pushers
        .into_iter()
        .map(|h| h.join().expect("floor client"))
        .sum();
    (pushes * batch) as f64 / start.elapsed().as_secs_f64()
}

/// Waits for the pushers and sums up: ops, rate, median and p99 push latency
/// (and the rate alone, for its ratio to the floor).
fn rate_and_latency(
    pushers: Vec<std::thread::JoinHandle<Vec<Duration>>>,
    start: Instant,
    batch: usize,
) -> (String, f64) {
    let mut lat: Vec<Duration> = pushers
        .into_iter()
        .flat_map(|h| h.join().expect("thread"))
        .collect();
    let elapsed = start.elapsed();
    lat.sort_unstable();
    let ops = lat.len() * batch;
    let rate = ops as f64 / elapsed.as_secs_f64();
    let figures = format!(
        "{ops} ops in {batch}-op pushes: {rate:.0} ops/s, push latency median {:.2?} p99 {:.2?}",
        lat[lat.len() / 2],
        lat[(lat.len() as f64 * 0.99) as usize - 1]
    );
    (figures, rate)
}

/// Fresh people each batch, stamped now, written by `author` on `device`.
fn push_batches(
    author: &str,
    device: caseload::domain::DeviceId,
    batch: usize,
    pushes: usize,
) -> Vec<Vec<Op>> {
    let author = WorkerId::new(author);
    let mut clock = caseload::sync::HlcClock::default();
    (0..pushes)
        .map(|round| {
            let mut ids = std::collections::HashMap::new();
            DemoCohort::new(DemoSpec {
                people: batch.div_ceil(5) + 1,
                seed: (round * 1000 + author.as_str().len()) as u64,
                today: common::today(),
            })
            .flatten()
            .take(batch)
            .map(|mut op| {
                op.author = author.clone();
                op.device = device;
                op.id = caseload::domain::OpId(uuid::Uuid::now_v7());
                op.at = clock.tick(caseload::clock::Clock::system().now_millis());
                op.person = *ids.entry(op.person).or_insert_with(PersonId::mint);
                op
            })
            .collect()
        })
        .collect()
}

fn in_process(data: &Path, batch: usize, pushes: usize) -> String {
    let hub = std::sync::Arc::new(caseload::hub::server::Hub {
        store: SledHubStore::open(data, None).expect("hub"),
        max_clock_skew_millis: 300_000,
        clock: caseload::clock::Clock::system(),
        guard: Default::default(),
        pull_page_bytes: caseload::sync::protocol::PULL_PAGE_BYTES,
    });
    let user = User {
        name: "admin".into(),
        role: Role::Admin,
        district: None,
        revoked: false,
        created_millis: 0,
    };
    let work: Vec<(caseload::domain::DeviceId, Vec<Vec<Op>>)> = (0..50)
        .map(|i| {
            let device = caseload::domain::DeviceId::random();
            (
                device,
                push_batches(&format!("c{i}"), device, batch, pushes),
            )
        })
        .collect();
    let start = Instant::now();
    let handles: Vec<_> = work
        .into_iter()
        .map(|(device, batches)| {
            let hub = hub.clone();
            let user = user.clone();
            std::thread::spawn(move || {
                batches
                    .into_iter()
                    .map(|ops| {
                        let t = Instant::now();
                        hub.push(&user, device, PushRequest { ops }).expect("push");
                        t.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    format!(
        "in process, 50 threads, {}",
        rate_and_latency(handles, start, batch).0
    )
}
