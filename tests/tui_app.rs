//! The workbench's behaviour, driven key by key through the real keymap and a
//! real store (no terminal needed).

use caseload::clock::Clock;
use caseload::config::Config;
use caseload::demo::{DemoCohort, DemoSpec};
use caseload::domain::{Outcome, WorkerId};
use caseload::logfile::Log;
use caseload::replica::Replica;
use caseload::store::Origin;
use caseload::store::crypto::KdfParams;
use caseload::tui::app::{App, Screen, Session, StatusKind};
use caseload::tui::caseload::SortKey;
use caseload::tui::forms::Overlay;
use caseload::tui::keymap::Keymap;
use caseload::tui::theme::Theme;
use chrono::NaiveDate;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::{Duration, Instant};

const FAST: KdfParams = KdfParams::LEAST;
const PASS: &str = "app test passphrase";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn setup(keymap: Keymap) -> (App, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let mut r = Replica::init(
        &tmp.path().join("s"),
        PASS.as_bytes(),
        WorkerId::new("demo.officer"),
        FAST,
    )
    .unwrap();
    let ops: Vec<_> = DemoCohort::new(DemoSpec {
        people: 120,
        seed: 5,
        today: today(),
    })
    .flatten()
    .collect();
    r.commit(&ops, Origin::Remote).unwrap();
    let app = App::new(
        Session::Unlocked(Box::new(r)),
        Config::default(),
        keymap,
        Theme::mono(),
        Clock::on_day(today()),
        Log::default(),
    );
    (app, tmp)
}

/// Presses keys given as the user would type them; returns how many were pressed.
fn press(app: &mut App, keys: &[&str]) -> usize {
    for k in keys {
        let (code, mods) = match *k {
            "Enter" => (KeyCode::Enter, KeyModifiers::NONE),
            "Esc" => (KeyCode::Esc, KeyModifiers::NONE),
            "Tab" => (KeyCode::Tab, KeyModifiers::NONE),
            "Down" => (KeyCode::Down, KeyModifiers::NONE),
            "C-l" => (KeyCode::Char('l'), KeyModifiers::CONTROL),
            "C-p" => (KeyCode::Char('p'), KeyModifiers::CONTROL),
            "C-g" => (KeyCode::Char('g'), KeyModifiers::CONTROL),
            "C-u" => (KeyCode::Char('u'), KeyModifiers::CONTROL),
            "M-o" => (KeyCode::Char('o'), KeyModifiers::ALT),
            s if s.chars().count() == 1 => {
                (KeyCode::Char(s.chars().next().unwrap()), KeyModifiers::NONE)
            }
            other => panic!("unknown key {other}"),
        };
        app.handle_key(KeyEvent::new(code, mods));
    }
    keys.len()
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
}

fn selected_contacts(app: &App) -> usize {
    contacts_of(app, app.target_person().unwrap())
}

fn contacts_of(app: &App, person: caseload::domain::PersonId) -> usize {
    let replica = app.replica().expect("unlocked");
    replica.person(person).unwrap().unwrap().contacts.len()
}

/// Saving moves the person to their new place in the list without sorting
/// everyone again, and the list is the one sorting everyone would make.
#[test]
fn saving_an_attempt_moves_the_person_to_their_place_in_the_sorted_list() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    // Sorted by last contact, latest first; someone partway down chosen.
    press(&mut app, &["s", "s", "s", "s", "s", "S"]);
    assert_eq!(app.caseload.sort, SortKey::LastContact);
    press(
        &mut app,
        &["Down", "Down", "Down", "Down", "Down", "Down", "Down"],
    );
    let person = app.target_person().unwrap();
    let before = selected_contacts(&app);
    press(&mut app, &["c", "n", "Enter"]);
    assert_eq!(contacts_of(&app, person), before + 1);
    assert_eq!(app.target_person(), Some(person), "still chosen");
    assert_eq!(app.caseload.selected, 0, "the latest contact now");
    let updated = app.caseload.rows.clone();
    // Seven more turns of the sort come back to the same order, made whole.
    press(&mut app, &["s", "s", "s", "s", "s", "s", "s"]);
    assert_eq!(app.caseload.sort, SortKey::LastContact);
    assert_eq!(app.caseload.rows, updated);
    assert_eq!(app.target_person(), Some(person));
}

#[test]
fn phone_no_answer_takes_three_keys_from_the_list() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    let before = selected_contacts(&app);
    let keys = press(&mut app, &["c", "n", "Enter"]);
    assert_eq!(keys, 3);
    assert!(app.overlay.is_none());
    assert_eq!(selected_contacts(&app), before + 1);
    let status = app.status.clone().unwrap();
    assert_eq!(status.kind, StatusKind::Info);
    assert!(
        status.text.starts_with("Saved: Phone — No answer"),
        "{}",
        status.text
    );
}

#[test]
fn spoke_to_young_person_now_in_fe_takes_eight_keys() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    let id = app.target_person().unwrap();
    let keys = press(&mut app, &["c", "y", "Enter", "a", "2", "3", "0", "Enter"]);
    assert_eq!(keys, 8);
    let state = app.replica().unwrap().person(id).unwrap().unwrap();
    assert_eq!(state.current_activity().unwrap().code.code(), 230);
    assert_eq!(state.current_activity().unwrap().confirmed, today());
    assert_eq!(
        state.last_contact().unwrap().value.outcome,
        Outcome::SpokeToYoungPerson
    );
}

#[test]
fn a_note_and_follow_up_can_be_added_before_saving() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    let id = app.target_person().unwrap();
    press(&mut app, &["c", "t", "x"]);
    type_text(&mut app, "Texted about the open day");
    press(&mut app, &["Tab"]);
    type_text(&mut app, "+2w");
    press(&mut app, &["Enter"]);
    let state = app.replica().unwrap().person(id).unwrap().unwrap();
    let last = state.contacts.iter().max_by_key(|c| c.stamp).unwrap();
    assert_eq!(last.value.note, "Texted about the open day");
    assert_eq!(last.value.follow_up, NaiveDate::from_ymd_opt(2026, 12, 7));
    assert_eq!(last.value.channel, caseload::domain::Channel::Text);
    assert_eq!(last.value.outcome, Outcome::SentNoReply);
}

#[test]
fn a_text_cannot_leave_a_voicemail() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    let id = app.target_person().unwrap();
    let before = app
        .replica()
        .unwrap()
        .person(id)
        .unwrap()
        .unwrap()
        .contacts
        .len();
    press(&mut app, &["c", "t", "v"]);
    match &app.overlay {
        Some(Overlay::Contact(f)) => assert!(
            f.error
                .as_deref()
                .is_some_and(|e| e.contains("does not go with Text message")),
            "{:?}",
            f.error
        ),
        other => panic!("the form stays open and says why: {other:?}"),
    }
    press(&mut app, &["Enter"]);
    let state = app.replica().unwrap().person(id).unwrap().unwrap();
    assert_eq!(state.contacts.len(), before, "nothing saved");
}

#[test]
fn a_bad_follow_up_date_is_explained_and_nothing_is_saved() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    let before = selected_contacts(&app);
    press(&mut app, &["c", "n", "Tab"]);
    type_text(&mut app, "31/02/2027");
    press(&mut app, &["Enter"]);
    match &app.overlay {
        Some(Overlay::Contact(f)) => assert!(
            f.error.as_deref().unwrap().contains("unparseable date"),
            "{:?}",
            f.error
        ),
        other => panic!("form should stay open: {other:?}"),
    }
    assert_eq!(selected_contacts(&app), before);
    // A date before the attempt is refused by the domain, with its reason.
    press(&mut app, &["Tab", "Tab", "Tab"]);
    for _ in 0..10 {
        app.handle_key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
    }
    type_text(&mut app, "01/01/2026");
    press(&mut app, &["Enter"]);
    match &app.overlay {
        Some(Overlay::Contact(f)) => assert!(
            f.error
                .as_deref()
                .unwrap()
                .contains("is before the contact attempt"),
            "{:?}",
            f.error
        ),
        other => panic!("form should stay open: {other:?}"),
    }
    assert_eq!(selected_contacts(&app), before);
    press(&mut app, &["Esc"]);
    assert!(app.overlay.is_none());
}

#[test]
fn auto_lock_drops_the_data_and_keeps_the_unsaved_form() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    let id = app.target_person().unwrap();
    press(&mut app, &["c", "y"]);
    type_text(&mut app, "half-written note");
    app.tick(Instant::now());
    assert!(app.is_unlocked(), "not idle yet");
    let later = app.last_input + Duration::from_secs(10 * 60);
    app.tick(later);
    assert!(!app.is_unlocked(), "locked after ten idle minutes");
    assert!(app.person.is_none() && app.dashboard.is_none());
    // Keys while locked go to the passphrase, not the form.
    type_text(&mut app, PASS);
    press(&mut app, &["Enter"]);
    assert!(app.is_unlocked());
    match &app.overlay {
        Some(Overlay::Contact(f)) => {
            assert_eq!(f.note.value(), "half-written note");
            assert_eq!(f.person, id);
        }
        other => panic!("form lost: {other:?}"),
    }
    press(&mut app, &["Enter"]);
    assert!(app.overlay.is_none());
}

#[test]
fn ctrl_l_locks_at_once_and_a_wrong_passphrase_is_refused() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    press(&mut app, &["C-l"]);
    assert!(!app.is_unlocked());
    type_text(&mut app, "nope");
    press(&mut app, &["Enter"]);
    match &app.session {
        Session::Locked { error, .. } => {
            assert_eq!(error.as_deref(), Some("Wrong passphrase. Try again."))
        }
        _ => panic!("should still be locked"),
    }
    type_text(&mut app, PASS);
    press(&mut app, &["Enter"]);
    assert!(app.is_unlocked());
}

#[test]
fn a_colleagues_follow_up_stays_open_and_f_closes_your_own() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    let me = WorkerId::new("demo.officer");
    let id = {
        let r = app.replica().unwrap();
        r.index()
            .all()
            .iter()
            .find_map(|s| {
                let state = r.person(s.id).unwrap()?;
                let open = state.open_follow_ups();
                (!open.is_empty() && open.iter().all(|f| f.owner != me)).then_some(s.id)
            })
            .expect("the demo has colleagues' follow-ups")
    };
    press(&mut app, &["/"]);
    type_text(&mut app, &id.short());
    press(&mut app, &["Enter"]);
    assert_eq!(app.screen, Screen::Person);
    assert_eq!(app.target_person(), Some(id));
    let open = |app: &App| {
        let state = app.replica().unwrap().person(id).unwrap().unwrap();
        state.open_follow_ups()
    };
    let theirs = open(&app).len();
    // My attempt does not close a colleague's follow-up…
    press(&mut app, &["c", "n", "Enter"]);
    assert_eq!(open(&app).len(), theirs);
    // …and neither can I.
    press(&mut app, &["f"]);
    let said = &app.status.as_ref().unwrap().text;
    assert!(said.contains("stays until they close it"), "{said}");
    assert_eq!(open(&app).len(), theirs);
    // A follow-up of my own, due today: the next attempt form says it answers it.
    press(&mut app, &["c", "n", "Tab"]);
    type_text(&mut app, "today");
    press(&mut app, &["Enter"]);
    assert_eq!(open(&app).len(), theirs + 1);
    press(&mut app, &["c"]);
    match &app.overlay {
        Some(Overlay::Contact(f)) => assert_eq!(f.answers, vec![today()]),
        other => panic!("the contact form: {other:?}"),
    }
    press(&mut app, &["Esc"]);
    // One key marks it done.
    assert_eq!(press(&mut app, &["f"]), 1);
    assert_eq!(open(&app).len(), theirs);
    let said = &app.status.as_ref().unwrap().text;
    assert!(
        said.starts_with("Done: your follow-up due 23/11/2026"),
        "{said}"
    );
}

#[test]
fn an_offer_takes_five_keys_and_the_provider_and_a_destination_three() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    let id = app.target_person().unwrap();
    press(&mut app, &["Enter"]);
    // o, status stays "offer made", Tab to the place, ↓ full-time education,
    // Tab to the provider, type it, Enter.
    let mut keys = press(&mut app, &["o", "Tab", "Down", "Tab"]);
    type_text(&mut app, "East Kent College");
    keys += press(&mut app, &["Enter"]);
    assert_eq!(keys, 5);
    let state = app.replica().unwrap().person(id).unwrap().unwrap();
    let offer = &state.latest_offer().unwrap().value;
    assert_eq!(
        offer.status,
        caseload::domain::records::OfferStatus::OfferMade
    );
    assert_eq!(
        offer.kind,
        Some(caseload::domain::records::DestinationKind::FullTimeEducation)
    );
    assert_eq!(offer.provider.as_deref(), Some("East Kent College"));
    assert_eq!(press(&mut app, &["d", "Down", "Enter"]), 3);
    let state = app.replica().unwrap().person(id).unwrap().unwrap();
    assert_eq!(
        state.latest_destination().unwrap().value.kind,
        caseload::domain::records::DestinationKind::Apprenticeship
    );
}

#[test]
fn a_phone_is_edited_in_three_keys_and_a_wrong_number_is_kept_as_not_working() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    let id = app.target_person().unwrap();
    press(&mut app, &["Enter"]);
    let person = |app: &App| {
        let state = app.replica().unwrap().person(id).unwrap().unwrap();
        state.young_person().unwrap()
    };
    // e, clear the mobile, type the new one, Enter.
    let mut keys = press(&mut app, &["e", "C-u"]);
    type_text(&mut app, "07700 900111");
    keys += press(&mut app, &["Enter"]);
    assert_eq!(keys, 3);
    let mobile = |app: &App| {
        person(app)
            .phones
            .iter()
            .find(|p| p.label == caseload::domain::person::PhoneLabel::Mobile)
            .map(|p| p.number.clone())
    };
    assert_eq!(mobile(&app).as_deref(), Some("07700 900111"));
    assert!(
        person(&app).not_working.is_empty(),
        "an edit is not a failure"
    );
    // "Wrong number" offers the form at once; the number replaced is kept.
    press(&mut app, &["c", "w", "Enter"]);
    match &app.overlay {
        Some(Overlay::Details(f)) => assert_eq!(f.not_working, Some(Outcome::WrongNumber)),
        other => panic!("the details form is offered: {other:?}"),
    }
    press(&mut app, &["C-u"]);
    type_text(&mut app, "07700 900222");
    press(&mut app, &["Enter"]);
    assert_eq!(mobile(&app).as_deref(), Some("07700 900222"));
    let dead = person(&app).not_working;
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].detail.as_str(), dead[0].how),
        ("07700 900111", Outcome::WrongNumber)
    );
    // A bad number is refused in the form, which stays open and says why.
    press(&mut app, &["e", "C-u"]);
    type_text(&mut app, "12");
    press(&mut app, &["Enter"]);
    match &app.overlay {
        Some(Overlay::Details(f)) => {
            assert!(
                f.error.as_deref().unwrap().contains("phone number"),
                "{:?}",
                f.error
            )
        }
        other => panic!("still open: {other:?}"),
    }
    // It holds the record's details: a lock closes it.
    press(&mut app, &["C-l"]);
    assert!(app.overlay.is_none());
}

#[test]
fn the_contact_form_records_the_number_rung_and_down_picks_another() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    let id = app.target_person().unwrap();
    press(&mut app, &["Enter", "e", "C-u"]);
    type_text(&mut app, "07700 900111");
    press(&mut app, &["Tab", "C-u"]);
    type_text(&mut app, "01632 960222");
    press(&mut app, &["Enter"]);
    let last_used = |app: &App| {
        let state = app.replica().unwrap().person(id).unwrap().unwrap();
        let last = state.contacts.iter().max_by_key(|c| c.stamp).unwrap();
        state.used_by(last.op()).map(|u| u.detail.clone())
    };
    // The form offers the first number; Down the next: one key more.
    press(&mut app, &["c"]);
    match &app.overlay {
        Some(Overlay::Contact(f)) => {
            assert_eq!(
                f.using().map(|(u, _)| u.detail.as_str()),
                Some("07700 900111")
            )
        }
        other => panic!("the contact form: {other:?}"),
    }
    assert_eq!(press(&mut app, &["Down", "n", "Enter"]), 3);
    assert_eq!(last_used(&app).as_deref(), Some("01632 960222"));
    press(&mut app, &["c", "n", "Enter"]);
    assert_eq!(last_used(&app).as_deref(), Some("07700 900111"));
    // In person, none of the record's details is used.
    press(&mut app, &["c", "f", "y", "Enter"]);
    assert_eq!(last_used(&app), None);
    // The home number was wrong: the details form opens at the home number.
    press(&mut app, &["c", "Down", "w", "Enter"]);
    match &app.overlay {
        Some(Overlay::Details(f)) => assert_eq!(f.focus, 1, "the home phone's field"),
        other => panic!("the details form is offered: {other:?}"),
    }
}

/// A save is durable in the commit log when "Saved" shows; the database
/// takes it in once the keyboard has been quiet a moment, not between keys.
#[test]
fn saved_changes_are_applied_to_the_database_when_the_keyboard_is_quiet() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    let before = selected_contacts(&app);
    press(&mut app, &["c", "n", "Enter"]);
    let store_waits = |app: &App| app.replica().unwrap().store().has_unapplied();
    assert!(store_waits(&app), "in the commit log only");
    let typing = app.last_input + Duration::from_millis(100);
    app.tick(typing);
    assert!(store_waits(&app), "not between keys");
    assert_eq!(app.quiet_deadline().map(|due| due > typing), Some(true));
    app.tick(app.last_input + Duration::from_secs(1));
    assert!(!store_waits(&app), "applied when quiet");
    assert_eq!(app.quiet_deadline(), None, "nothing more to wake for");
    assert_eq!(selected_contacts(&app), before + 1);
}

/// sled keeps in memory what was read until its database is closed: after
/// the returns (every Year 11 and 12 record read) and after unlocking, the
/// database is closed and opened again once the keyboard is quiet.
#[test]
fn the_database_is_opened_again_when_quiet_after_the_returns_and_after_unlocking() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    assert_eq!(app.quiet_deadline(), None, "nothing read yet");
    press(&mut app, &["5"]);
    assert!(app.returns.is_some());
    let due = app.quiet_deadline().expect("waits for a quiet keyboard");
    app.tick(due - Duration::from_millis(1));
    assert!(app.quiet_deadline().is_some(), "not between keys");
    app.tick(due);
    assert_eq!(app.quiet_deadline(), None, "done");
    assert!(app.is_unlocked());
    press(&mut app, &["1"]);
    let person = app.target_person().unwrap();
    let before = selected_contacts(&app);
    press(&mut app, &["c", "n", "Enter"]);
    assert_eq!(selected_contacts(&app), before + 1);
    press(&mut app, &["C-l"]);
    type_text(&mut app, PASS);
    press(&mut app, &["Enter"]);
    assert!(app.quiet_deadline().is_some(), "after unlocking too");
    app.tick(app.last_input + Duration::from_secs(1));
    assert_eq!(app.quiet_deadline(), None);
    assert_eq!(contacts_of(&app, person), before + 1);
}

#[test]
fn a_database_that_will_not_open_again_locks_the_workbench_with_the_reason() {
    let (mut app, t) = setup(Keymap::builtin_default());
    let person = app.target_person().unwrap();
    let before = selected_contacts(&app);
    press(&mut app, &["c", "n", "Enter", "5"]);
    let conf = t.path().join("s").join("db").join("conf");
    let good = std::fs::read(&conf).unwrap();
    std::fs::write(&conf, b"not sled's settings").unwrap();
    app.tick(app.last_input + Duration::from_secs(1));
    match &app.session {
        Session::Locked { error, .. } => {
            let error = error.as_deref().unwrap_or_default();
            assert!(
                error.starts_with("The database could not be opened again, so caseload locked: "),
                "{error}"
            );
        }
        _ => panic!("should be locked"),
    }
    assert!(app.returns.is_none(), "nothing decrypted is kept");
    // Put right, it unlocks with what was saved.
    std::fs::write(&conf, good).unwrap();
    type_text(&mut app, PASS);
    press(&mut app, &["Enter"]);
    assert_eq!(contacts_of(&app, person), before + 1);
}

#[test]
fn recent_messages_are_read_in_full_and_forgotten_on_lock() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    press(&mut app, &["c", "n", "Enter"]);
    press(&mut app, &["C-g"]);
    assert!(matches!(app.overlay, Some(Overlay::Messages { .. })));
    let saved = &app.messages.front().unwrap().1.text;
    assert!(
        saved.starts_with("Saved: Phone — No answer for "),
        "{saved}"
    );
    press(&mut app, &["Esc"]);
    assert!(app.overlay.is_none());
    // Esc and the next key in one packet arrive as Alt and that key: still
    // read as the two keys typed.
    press(&mut app, &["Enter", "C-g", "M-o"]);
    assert!(
        matches!(app.overlay, Some(Overlay::Offer(_))),
        "Esc+o closed the messages and opened an offer"
    );
    press(&mut app, &["Esc"]);
    // They name young people: a lock forgets them with the records.
    press(&mut app, &["C-l"]);
    assert!(app.messages.is_empty());
}

#[test]
fn the_returns_screen_lists_what_to_put_right_and_opens_each_record() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    press(&mut app, &["5"]);
    assert_eq!(app.screen, Screen::Returns);
    let data = app.returns.as_ref().expect("worked out on opening");
    assert!(data.headline.cohort > 0);
    assert!(data.checks.len() >= 2, "the demo has records to put right");
    let second = data.checks[1].person;
    // Down, Enter: that young person's record; Esc: back to the same row.
    press(&mut app, &["Down", "Enter"]);
    assert_eq!(app.screen, Screen::Person);
    assert_eq!(app.person.as_ref().map(|p| p.person.id), Some(second));
    press(&mut app, &["Esc"]);
    assert_eq!(app.screen, Screen::Returns);
    assert_eq!(app.returns.as_ref().map(|r| r.selected), Some(1));
    // It names young people: a lock drops it with everything shown.
    press(&mut app, &["C-l"]);
    assert!(app.returns.is_none());
}

#[test]
fn the_palette_finds_and_runs_an_action_by_name() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    press(&mut app, &[":"]);
    type_text(&mut app, "dashboard");
    press(&mut app, &["Enter"]);
    assert_eq!(app.screen, Screen::Dashboard);
    assert!(app.dashboard.is_some());
    press(&mut app, &["C-p"]);
    type_text(&mut app, "my day");
    press(&mut app, &["Enter"]);
    assert_eq!(app.screen, Screen::Agenda);
}

#[test]
fn vim_keys_move_and_search() {
    let (mut app, _t) = setup(caseload::tui::keymap::Keymap::load("vim", None).0);
    press(&mut app, &["j", "j"]);
    assert_eq!(app.caseload.selected, 2);
    press(&mut app, &["G"]);
    assert_eq!(app.caseload.selected, app.caseload.rows.len() - 1);
    press(&mut app, &["g", "/"]);
    let name = app.replica().unwrap().index().all()[7].name.family.clone();
    type_text(&mut app, &name.to_lowercase());
    assert!(!app.caseload.rows.is_empty());
    let top = app
        .caseload
        .selected_id(app.replica().unwrap().index())
        .unwrap();
    assert_eq!(
        app.replica().unwrap().index().get(top).unwrap().name.family,
        name
    );
    press(&mut app, &["Enter"]);
    assert_eq!(app.screen, Screen::Person);
}

#[test]
fn filters_and_the_queue_work_through_a_list() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    // G cycles the status filter: EET, NEET, Not Known.
    press(&mut app, &["G", "G", "G"]);
    let not_known = app.caseload.rows.len();
    assert!(not_known > 0);
    press(&mut app, &["t"]);
    assert_eq!(app.screen, Screen::Queue);
    assert_eq!(app.queue.people.len(), not_known);
    let first = app.queue.current().unwrap();
    press(&mut app, &["n"]);
    assert_eq!((app.queue.done, app.queue.skipped), (1, 0));
    let state = app.replica().unwrap().person(first).unwrap().unwrap();
    let last = state.last_contact().unwrap();
    assert_eq!(last.value.outcome, Outcome::NoAnswer);
    // The number rung is the card's first.
    let first_phone = state.young_person().unwrap().phones.first().cloned();
    assert_eq!(
        state.used_by(last.op()).map(|u| u.detail.clone()),
        first_phone.map(|p| p.number)
    );
    app.handle_key(KeyEvent::new(KeyCode::Char(' '), KeyModifiers::NONE));
    assert_eq!(app.queue.skipped, 1);
    assert_eq!(
        app.queue.done + app.queue.skipped + app.queue.left(),
        not_known
    );
}

#[test]
fn a_misspelt_name_is_still_found_by_the_fuzzy_tier() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    let index = app.replica().unwrap().index();
    let target = index
        .all()
        .iter()
        .find(|s| s.name.given.len() >= 5 && s.name.family.len() >= 5)
        .unwrap()
        .clone();
    // Drop the second letter of each name: "Olivia Taylor" -> "Oivia Tylor".
    let typo = |w: &str| format!("{}{}", &w[..1], &w[2..]).to_lowercase();
    let query = format!("{} {}", typo(&target.name.given), typo(&target.name.family));
    press(&mut app, &["/"]);
    type_text(&mut app, &query);
    let index = app.replica().unwrap().index();
    let everyone = index.len();
    let top: Vec<_> = app
        .caseload
        .rows
        .iter()
        .take(5)
        .map(|i| index.all()[*i as usize].id)
        .collect();
    assert!(
        top.contains(&target.id),
        "{query:?} did not find {}",
        target.name.display()
    );
    // Backspacing returns to earlier results (served from the cache).
    for _ in 0..query.len() {
        app.handle_key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
    }
    assert_eq!(app.caseload.rows.len(), everyone);
}

#[test]
fn a_note_takes_two_keys_and_the_text_and_shows_on_the_record() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    let id = app.target_person().unwrap();
    let notes = |app: &App| {
        let state = app.replica().unwrap().person(id).unwrap().unwrap();
        state
            .live_notes()
            .map(|n| n.value.text.clone())
            .collect::<Vec<_>>()
    };
    let before = notes(&app);
    press(&mut app, &["n", "Enter"]);
    assert!(app.overlay.is_some(), "an empty note is not saved");
    assert_eq!(notes(&app), before);
    type_text(&mut app, "Mum says he starts at Tesco on Monday");
    let keys = press(&mut app, &["Enter"]) + 1;
    assert_eq!(keys, 2, "n, the text, Enter");
    assert!(app.overlay.is_none());
    assert_eq!(notes(&app).len(), before.len() + 1);
    assert!(notes(&app).contains(&"Mum says he starts at Tesco on Monday".to_string()));
    let status = app.status.clone().unwrap();
    assert!(
        status.text.starts_with("Saved: note for "),
        "{}",
        status.text
    );
}

#[test]
fn undo_marks_the_contact_just_logged_as_corrected_in_two_keys() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    let id = app.target_person().unwrap();
    press(&mut app, &["u"]);
    assert!(app.overlay.is_none(), "nothing saved yet: nothing to undo");
    assert!(
        app.status
            .clone()
            .unwrap()
            .text
            .starts_with("Nothing to undo")
    );
    press(&mut app, &["c", "v", "Enter"]);
    let state = app.replica().unwrap().person(id).unwrap().unwrap();
    let logged = state.last_contact().unwrap().stamp.op;
    let keys = press(&mut app, &["u", "Enter"]);
    assert_eq!(keys, 2);
    assert!(app.overlay.is_none());
    let state = app.replica().unwrap().person(id).unwrap().unwrap();
    assert!(state.is_retracted(logged), "kept, marked as corrected");
    assert!(state.contacts.iter().any(|c| c.stamp.op == logged));
    assert_ne!(state.last_contact().map(|c| c.stamp.op), Some(logged));
    let status = app.status.clone().unwrap();
    assert!(
        status.text.starts_with("Corrected: Phone — Voicemail left"),
        "{}",
        status.text
    );
    press(&mut app, &["u"]);
    assert!(app.overlay.is_none(), "a correction is not undone by undo");
}

#[test]
fn the_queue_card_shows_a_change_at_once_and_goes_back_a_person() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    press(&mut app, &["3"]);
    assert_eq!(app.screen, Screen::Queue);
    let first = app.queue.current().unwrap();
    press(&mut app, &["a", "3", "1", "0", "Enter"]);
    let card = app.queue.pane.as_ref().expect("the card");
    assert_eq!(card.person.id, first);
    assert_eq!(
        card.state.current_activity().unwrap().code.code(),
        310,
        "the card shows the activity just set"
    );
    press(&mut app, &["n"]);
    assert_ne!(app.queue.current(), Some(first));
    press(&mut app, &["b"]);
    assert_eq!(
        app.queue.current(),
        Some(first),
        "back to the previous person"
    );
    assert_eq!(app.queue.pane.as_ref().unwrap().person.id, first);
    press(&mut app, &["b"]);
    assert_eq!(
        app.queue.current(),
        Some(first),
        "the first has no previous"
    );
}

#[test]
fn a_slash_starts_a_fresh_search() {
    let (mut app, _t) = setup(Keymap::builtin_default());
    let everyone = app.caseload.rows.len();
    press(&mut app, &["/"]);
    type_text(&mut app, "zzzzqqq");
    assert!(app.caseload.rows.is_empty(), "nobody matches");
    press(&mut app, &["Enter"]);
    press(&mut app, &["/"]);
    assert_eq!(app.caseload.query.value(), "", "the old words are gone");
    assert_eq!(app.caseload.rows.len(), everyone);
}
