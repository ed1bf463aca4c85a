//! The hub against hostile clients: a real hub process on 127.0.0.1, and
//! clients written here that misbehave — a token redeemed by many at once,
//! decompression bombs before authentication, oversize fields, ops stamped with
//! another device's id, sneaky hub addresses, escape sequences and spreadsheet
//! formulas in records. Honest devices keep working throughout.

mod common;

use caseload::domain::{
    Channel, ContactAttempt, DeviceId, FieldValue, Note, OpPayload, Outcome, PersonId, WorkerId,
};
use caseload::replica::Replica;
use caseload::store::Origin;
use caseload::store::crypto::KdfParams;
use caseload::sync::protocol::{self, LoginRequest, PushRequest};
use common::{HubProcess, output_text as text};
use std::path::{Path, PathBuf};
use std::process::Output;

const FAST: KdfParams = KdfParams::LEAST;
const PASS: &str = "hostile client test passphrase";

/// A device store for `worker`, logged in to the hub with `token`.
fn caseload(args: &[&str]) -> Output {
    common::caseload_with(PASS, args)
}

fn add_user(data: &Path, name: &str, role: &str) -> String {
    common::hub_user(data, name, role)
}

fn logged_in_device(dir: &Path, worker: &str, url: &str, token: &str) -> PathBuf {
    let store = dir.join(format!("store-{worker}"));
    drop(Replica::init(&store, PASS.as_bytes(), WorkerId::new(worker), FAST).unwrap());
    let token_file = dir.join(format!("{worker}.token"));
    std::fs::write(&token_file, token).unwrap();
    let out = caseload(&[
        "--store",
        store.to_str().unwrap(),
        "login",
        url,
        "--token-file",
        token_file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    store
}

fn open(store: &Path) -> Replica {
    Replica::open(caseload::store::EncryptedStore::open(store, PASS.as_bytes()).unwrap()).unwrap()
}

fn device_token(store: &Path) -> String {
    caseload::link::link(&open(store))
        .unwrap()
        .unwrap()
        .device_token
        .clone()
}

/// POSTs a body; returns the status and the reason text.
fn post(url: &str, path: &str, token: Option<&str>, body: &[u8]) -> (u16, String) {
    let mut req = ureq::post(&format!("{url}{path}"));
    if let Some(t) = token {
        req = req.set("authorization", &format!("Bearer {t}"));
    }
    match req.send_bytes(body) {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => (0, e.to_string()),
    }
}

/// POSTs a body on a connection of its own from loopback address `source`
/// (127.0.0.N: another "machine"); returns the status, or 0 if the hub closed
/// the connection without an answer.
fn post_from(source: &str, url: &str, path: &str, token: Option<&str>, body: &[u8]) -> u16 {
    use std::io::{Read, Write};
    let mut c = connect_from(source, url);
    let auth = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\n{auth}content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    if c.write_all(head.as_bytes())
        .and_then(|_| c.write_all(body))
        .is_err()
    {
        return 0;
    }
    let mut answer = Vec::new();
    let _ = c.read_to_end(&mut answer);
    String::from_utf8_lossy(answer.get(9..12).unwrap_or_default())
        .parse()
        .unwrap_or(0)
}

/// The hub process's peak resident memory (kB), from the kernel.
fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

fn register(r: &mut Replica, given: &str, workers: &[&str]) -> PersonId {
    use caseload::domain::District;
    use caseload::domain::person::PersonName;
    r.register(
        vec![
            FieldValue::Name(PersonName {
                given: given.into(),
                family: "Hostile".into(),
                preferred: None,
            }),
            FieldValue::DateOfBirth(chrono::NaiveDate::from_ymd_opt(2009, 10, 1).unwrap()),
            FieldValue::District(District::Thanet),
            FieldValue::AssignedWorkers(workers.iter().map(|w| WorkerId::new(*w)).collect()),
        ],
        r.clock().today(),
    )
    .unwrap()
}

#[test]
fn an_enrolment_token_is_redeemed_exactly_once_however_many_arrive_together() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let tokens: Vec<String> = (0..5)
        .map(|i| add_user(&data, &format!("u.{i}"), "officer"))
        .collect();
    let hub = HubProcess::start(&data);
    for (round, token) in tokens.into_iter().enumerate() {
        // Each round from a "machine" of its own: the losers' failed sign-ins
        // count against their address (see the rate-limit test).
        let source = format!("127.0.1.{}", round + 1);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(20));
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let (url, token, barrier, source) = (
                    hub.url.clone(),
                    token.clone(),
                    barrier.clone(),
                    source.clone(),
                );
                std::thread::spawn(move || {
                    let body = protocol::encode(&LoginRequest {
                        enrolment_token: token,
                        device: DeviceId::random(),
                    });
                    barrier.wait();
                    post_from(&source, &url, "/v1/login", None, &body)
                })
            })
            .collect();
        let codes: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(
            codes.iter().filter(|c| **c == 200).count(),
            1,
            "one credential per token: {codes:?}"
        );
        assert!(codes.iter().all(|c| *c == 200 || *c == 401), "{codes:?}");
    }
}

#[test]
fn nothing_large_is_read_or_inflated_before_the_caller_is_known() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    add_user(&data, "j.smith", "officer");
    let hub = HubProcess::start(&data);
    let before = peak_rss_kb(hub.child.id());
    // 129 KB that inflates to a 127 MiB "token".
    let bomb = {
        let body = LoginRequest {
            enrolment_token: "A".repeat(127 << 20),
            device: DeviceId::random(),
        };
        protocol::encode(&body)
    };
    assert!(bomb.len() < 1 << 20, "{} bytes on the wire", bomb.len());
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (url, bomb) = (hub.url.clone(), bomb.clone());
            std::thread::spawn(move || post(&url, "/v1/login", None, &bomb))
        })
        .collect();
    for h in handles {
        // Refused from its size before it is read: the hub answers 413 and
        // closes, so a client still sending may only see the connection close.
        let (code, why) = h.join().unwrap();
        assert!(
            code == 413 || (code == 0 && (why.contains("Broken pipe") || why.contains("reset"))),
            "{code} {why}"
        );
    }
    // A small body that inflates past the login limit.
    let small_bomb = protocol::encode(&LoginRequest {
        enrolment_token: "A".repeat(64 << 10),
        device: DeviceId::random(),
    });
    assert!(small_bomb.len() < 4096);
    let (code, why) = post(&hub.url, "/v1/login", None, &small_bomb);
    assert_eq!(code, 400, "{why}");
    assert!(why.contains("larger than 4096 bytes"), "{why}");
    // Push and pull bodies are not read at all without a credential: the
    // answer (401) may come while the client is still sending, and close it.
    let (code, why) = post(&hub.url, "/v1/push", Some("forged"), &bomb);
    assert!(
        code == 401 || (code == 0 && (why.contains("Broken pipe") || why.contains("reset"))),
        "{code} {why}"
    );
    let after = peak_rss_kb(hub.child.id());
    eprintln!(
        "hub peak memory: {} MB before, {} MB after 16 login bombs and a forged push",
        before / 1024,
        after / 1024
    );
    assert!(
        after < before + 48 * 1024,
        "hub memory grew from {before} kB to {after} kB"
    );
}

#[test]
fn a_device_may_push_only_its_own_ops_and_only_fields_within_their_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let smith = add_user(&data, "j.smith", "officer");
    let khan = add_user(&data, "a.khan", "officer");
    let hub = HubProcess::start(&data);
    let s = logged_in_device(tmp.path(), "j.smith", &hub.url, &smith);
    let k = logged_in_device(tmp.path(), "a.khan", &hub.url, &khan);
    let shared = {
        let mut a = open(&s);
        register(&mut a, "Shared", &["j.smith", "a.khan"])
    };
    assert!(
        caseload(&["--store", s.to_str().unwrap(), "sync"])
            .status
            .success()
    );
    assert!(
        caseload(&["--store", k.to_str().unwrap(), "sync"])
            .status
            .success()
    );
    let token = device_token(&s);
    let khans_device = open(&k).identity().device;

    // An op stamped with a colleague's device id: that device would never get it.
    let spoofed = {
        let mut a = open(&s);
        let mut op = a.new_op(
            shared,
            OpPayload::AddNote(Note {
                text: "spoof".into(),
            }),
        );
        op.device = khans_device;
        op
    };
    let (code, why) = post(
        &hub.url,
        "/v1/push",
        Some(&token),
        &protocol::encode(&PushRequest { ops: vec![spoofed] }),
    );
    assert_eq!(code, 403, "{why}");
    assert!(why.contains("another device"), "{why}");

    // A 1 MiB assigned worker, and a 100,000-character note.
    let (huge_worker, huge_note) = {
        let mut a = open(&s);
        let w = a.new_op(
            shared,
            OpPayload::SetFields(vec![caseload::domain::ops::FieldSet::new(
                FieldValue::AssignedWorkers(
                    [WorkerId::new("j.smith"), WorkerId::new("x".repeat(1 << 20))].into(),
                ),
            )]),
        );
        let n = a.new_op(
            shared,
            OpPayload::AddNote(Note {
                text: "n".repeat(100_000),
            }),
        );
        (w, n)
    };
    for (op, field) in [(huge_worker, "assigned workers"), (huge_note, "text")] {
        let (code, why) = post(
            &hub.url,
            "/v1/push",
            Some(&token),
            &protocol::encode(&PushRequest { ops: vec![op] }),
        );
        assert_eq!(code, 422, "{why}");
        assert!(why.contains(&format!("{field} is too long")), "{why}");
    }
    // More ops in one push than the protocol allows.
    let many: Vec<_> = {
        let mut a = open(&s);
        (0..protocol::PUSH_BATCH + 1)
            .map(|i| {
                a.new_op(
                    shared,
                    OpPayload::AddNote(Note {
                        text: format!("n{i}"),
                    }),
                )
            })
            .collect()
    };
    let (code, why) = post(
        &hub.url,
        "/v1/push",
        Some(&token),
        &protocol::encode(&PushRequest { ops: many }),
    );
    assert_eq!(code, 413, "{why}");
    // Closing a colleague's follow-up: it is theirs to close.
    let khans_follow_up = {
        let mut a = open(&k);
        let today = a.clock().today();
        let attempt = ContactAttempt {
            at: a.clock().now(),
            channel: Channel::Phone,
            outcome: Outcome::NoAnswer,
            note: String::new(),
            follow_up: Some(today + chrono::Days::new(7)),
        };
        a.record(shared, OpPayload::LogContact(attempt), today)
            .unwrap()
            .id
    };
    for dir in [&k, &s] {
        let out = caseload(&["--store", dir.to_str().unwrap(), "sync"]);
        assert!(out.status.success(), "{}", text(&out));
    }
    let closing = {
        let mut a = open(&s);
        let on = a.clock().today();
        a.new_op(
            shared,
            OpPayload::CompleteFollowUp {
                follow_up: khans_follow_up,
                on,
            },
        )
    };
    let (code, why) = post(
        &hub.url,
        "/v1/push",
        Some(&token),
        &protocol::encode(&PushRequest { ops: vec![closing] }),
    );
    assert_eq!(code, 422, "{why}");
    assert!(why.contains("only they can mark it done"), "{why}");
    // Honest work still flows, both ways.
    {
        let mut a = open(&s);
        a.record(
            shared,
            OpPayload::AddNote(Note {
                text: "honest".into(),
            }),
            a.clock().today(),
        )
        .unwrap();
    }
    assert!(
        caseload(&["--store", s.to_str().unwrap(), "sync"])
            .status
            .success()
    );
    assert!(
        caseload(&["--store", k.to_str().unwrap(), "sync"])
            .status
            .success()
    );
    let state = open(&k).person(shared).unwrap().unwrap();
    let notes: Vec<String> = state.notes.iter().map(|n| n.value.text.clone()).collect();
    assert_eq!(notes, vec!["honest".to_string()]);
}

#[test]
fn a_hub_address_with_user_info_is_refused_whatever_it_seems_to_name() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let token = add_user(&data, "j.smith", "officer");
    let hub = HubProcess::start(&data);
    let store = tmp.path().join("store");
    drop(Replica::init(&store, PASS.as_bytes(), WorkerId::new("j.smith"), FAST).unwrap());
    let token_file = tmp.path().join("t");
    std::fs::write(&token_file, &token).unwrap();
    let hostport = hub.url.trim_start_matches("http://");
    for sneaky in [
        format!("http://[::1]@{hostport}"),
        format!("http://localhost:1@{hostport}"),
    ] {
        let out = caseload(&[
            "--store",
            store.to_str().unwrap(),
            "login",
            &sneaky,
            "--token-file",
            token_file.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(8), "{}", text(&out));
        assert!(
            text(&out).contains("user name or password"),
            "{}",
            text(&out)
        );
    }
    // The token was not spent: the plain address still works.
    let out = caseload(&[
        "--store",
        store.to_str().unwrap(),
        "login",
        &hub.url,
        "--token-file",
        token_file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn escape_sequences_already_in_a_record_are_shown_never_obeyed() {
    // Data from before the input rule, or from another council's file, may
    // still hold them: it arrives as ops from elsewhere, which are not re-checked.
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let mut r = Replica::init(&store, PASS.as_bytes(), WorkerId::new("j.smith"), FAST).unwrap();
    let id = register(&mut r, "Plain", &["j.smith"]);
    let evil = "\u{1b}]0;owned\u{7}\u{1b}[2J=HYPERLINK(\"http://x\")\u{202e}txt.exe";
    let rename = r.new_op(
        id,
        OpPayload::SetFields(vec![caseload::domain::ops::FieldSet::new(
            FieldValue::Name(caseload::domain::person::PersonName {
                given: "Evil".into(),
                family: evil.into(),
                preferred: None,
            }),
        )]),
    );
    let note = r.new_op(id, OpPayload::AddNote(Note { text: evil.into() }));
    r.commit(&[rename, note], Origin::Remote).unwrap();
    drop(r);
    let short = id.short();
    let s = store.to_str().unwrap();
    for args in [
        vec!["--store", s, "people"],
        vec!["--store", s, "show", &short],
        vec!["--store", s, "show", &short, "--json"],
        vec!["--store", s, "history", &short],
        vec!["--store", s, "report", "nccis", "--month", "2026-10"],
        vec!["--store", s, "report", "activity-survey"],
        vec!["--store", s, "report", "guarantee"],
        vec!["--store", s, "report", "destinations"],
        vec!["--store", s, "report", "roni"],
    ] {
        let out = caseload(&args);
        let all = text(&out);
        assert!(out.status.success(), "{args:?}: {all}");
        for c in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(!all.contains(c), "{args:?} printed {c:?} raw: {all:?}");
        }
        if args.contains(&"--json") {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert!(
                v.to_string().contains("HYPERLINK"),
                "JSON keeps the data, escaped"
            );
        }
        if args.contains(&"nccis") {
            assert!(
                !all.contains(",=HYPERLINK") && !all.contains("\"=HYPERLINK"),
                "a formula cell reached the CSV: {all}"
            );
        }
    }
}

/// A TCP connection to the hub from another loopback address (127.0.0.N), as
/// a different client machine would make.
fn connect_from(source: &str, url: &str) -> std::net::TcpStream {
    use socket2::{Domain, Socket, Type};
    let target: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    s.bind(
        &format!("{source}:0")
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .into(),
    )
    .unwrap();
    s.connect(&target.into()).unwrap();
    s.into()
}

#[test]
fn idle_and_slow_connections_are_timed_out_and_do_not_hold_up_a_sync() {
    use std::io::{Read, Write};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let token = add_user(&data, "j.smith", "officer");
    let hub = HubProcess::start(&data);
    let s = logged_in_device(tmp.path(), "j.smith", &hub.url, &token);
    {
        let mut a = open(&s);
        register(&mut a, "Patient", &["j.smith"]);
    }
    // 400 idle connections and 100 that send half a request header, from two
    // other "machines"; 50 that send a whole header and then a body slowly.
    let mut held = Vec::new();
    for i in 0..400 {
        held.push(connect_from(
            if i % 2 == 0 { "127.0.0.2" } else { "127.0.0.3" },
            &hub.url,
        ));
    }
    for _ in 0..100 {
        let mut c = connect_from("127.0.0.4", &hub.url);
        c.write_all(b"POST /v1/pull HTTP/1.1\r\nhost: x\r\n")
            .unwrap();
        held.push(c);
    }
    for _ in 0..50 {
        let mut c = connect_from("127.0.0.4", &hub.url);
        c.write_all(b"POST /v1/login HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\nslow")
            .unwrap();
        held.push(c);
    }
    let started = std::time::Instant::now();
    let out = caseload(&["--store", s.to_str().unwrap(), "sync"]);
    let took = started.elapsed();
    assert!(out.status.success(), "{}", text(&out));
    eprintln!("a normal sync with 550 idle or slow connections held: {took:.2?}");
    assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    // Every held connection is closed by the hub once its timeout passes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(25);
    for mut c in held.drain(..550) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        c.set_read_timeout(Some(left.max(std::time::Duration::from_millis(10))))
            .unwrap();
        let mut buf = [0u8; 512];
        let peer = c.local_addr().unwrap();
        let closed = loop {
            match c.read(&mut buf) {
                Ok(0) => break true,
                Ok(_) => continue, // a 408 first is fine
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
                Err(_) => break false,
            }
        };
        assert!(
            closed,
            "a held connection from {peer} was still open after its timeout"
        );
    }
}

#[test]
fn more_connections_than_allowed_from_one_address_are_closed_on_arrival() {
    use std::io::Read;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    add_user(&data, "j.smith", "officer");
    let hub = HubProcess::start_with(&data, &["--max-connections-per-client", "20"]);
    let held: Vec<_> = (0..20)
        .map(|_| connect_from("127.0.0.6", &hub.url))
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let mut over = connect_from("127.0.0.6", &hub.url);
    over.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 16];
    let n = over.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "closed at once");
    // Another address is unaffected.
    let health = ureq::get(&format!("{}/health", hub.url)).call().unwrap();
    assert_eq!(health.into_string().unwrap(), "ok");
    drop(held);
    let (entries, _) = caseload::hub::audit::read(&data).unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.event.name() == "connection_refused"),
        "the refusal is logged"
    );
}

#[test]
fn guessing_is_slowed_logged_and_shown_by_hub_audit() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let token = add_user(&data, "j.smith", "officer");
    let hub = HubProcess::start(&data);
    // 5,000 wrong enrolment and bearer tokens from one address.
    let mut codes = std::collections::BTreeMap::<u16, usize>::new();
    let started = std::time::Instant::now();
    for i in 0..5000 {
        let (path, body) = if i % 2 == 0 {
            (
                "/v1/login",
                protocol::encode(&LoginRequest {
                    enrolment_token: format!("guess-{i}"),
                    device: DeviceId::random(),
                }),
            )
        } else {
            (
                "/v1/pull",
                protocol::encode(&caseload::sync::protocol::PullRequest {
                    after: 0,
                    ..Default::default()
                }),
            )
        };
        let code = post_from(
            "127.0.0.7",
            &hub.url,
            path,
            Some(&format!("guess-{i}")),
            &body,
        );
        *codes.entry(code).or_default() += 1;
    }
    eprintln!(
        "5,000 guesses in {:.1?}: {codes:?} (401 = looked at, 429 = refused by the rate limiter)",
        started.elapsed()
    );
    assert_eq!(
        codes.get(&401),
        Some(&(caseload::hub::audit::MAX_FAILURES as usize))
    );
    assert!(codes.get(&429).copied().unwrap_or(0) > 4900, "{codes:?}");
    // An honest device elsewhere is not slowed.
    let s = logged_in_device(tmp.path(), "j.smith", &hub.url, &token);
    assert!(
        caseload(&["--store", s.to_str().unwrap(), "sync"])
            .status
            .success()
    );
    // The log: one line each failure, one rate-limit line per window, the
    // enrolment — and never a token.
    let log = std::fs::read_to_string(data.join("security.log")).unwrap();
    assert!(!log.contains("guess-"), "tokens are never logged");
    let audit = caseload(&["hub", "audit", "--data", data.to_str().unwrap()]);
    let shown = text(&audit);
    assert!(audit.status.success(), "{shown}");
    for kind in ["auth_failed", "rate_limited", "enrolled", "admin"] {
        assert!(shown.contains(kind), "{kind} missing: {shown}");
    }
    assert!(shown.contains("user add (officer)"), "{shown}");
    let only = caseload(&[
        "hub",
        "audit",
        "--data",
        data.to_str().unwrap(),
        "--event",
        "rate_limited",
        "--json",
    ]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&only.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "one rate-limit line per address per window");
    assert_eq!(lines[0]["client"], "127.0.0.7");
}
