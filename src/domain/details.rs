//! A young person's contact details as a caseworker edits them — phones,
//! email, address, the preferred channel and consent — turned into the field
//! changes to record. The workbench form and `caseload details` both go
//! through here, so they refuse and record alike.

use super::contact::{Channel, Outcome};
use super::error::DomainError;
use super::ops::FieldValue;
use super::person::{
    Address, Consent, ConsentStatus, PhoneLabel, PhoneNumber, Postcode, SocialHandle, YoungPerson,
};
use super::residence::Residence;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A phone number or address found not to work: kept on the record, so nobody
/// tries it again or types it back in from an old list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotWorking {
    pub detail: String,
    #[serde(with = "crate::domain::serde_date")]
    pub found_on: NaiveDate,
    /// What showed it: a wrong number, post returned.
    pub how: Outcome,
}

/// The number, address or handle a contact attempt used, as the record held
/// it then: "Mobile" and "07700 900123". Kept with the attempt, so a number
/// changed later does not rewrite what was dialled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsedDetail {
    /// What the record calls it: a phone's label, "Email", "Address" or the
    /// social media platform.
    pub label: String,
    pub detail: String,
}

impl UsedDetail {
    /// "07700 900123 (Mobile)".
    pub fn describe(&self) -> String {
        format!("{} ({})", self.detail, self.label)
    }
}

/// The person's details an attempt by `channel` could use, in the order the
/// contact form offers them (the first is its default): phones for a call or
/// a text (the parent/carer's first for a call through them), the email, the
/// address for a letter or a visit, the handles for social media. Channels
/// through someone else's number or in person use none of the record's.
pub fn reachable(person: &YoungPerson, channel: Channel) -> Vec<UsedDetail> {
    let phone = |p: &PhoneNumber| UsedDetail {
        label: p.label.label().to_string(),
        detail: p.number.clone(),
    };
    match channel {
        Channel::Phone | Channel::Text => person.phones.iter().map(phone).collect(),
        Channel::ViaParentCarer => {
            let (parent, own): (Vec<_>, Vec<_>) = person
                .phones
                .iter()
                .partition(|p| p.label == PhoneLabel::ParentCarer);
            parent.into_iter().chain(own).map(phone).collect()
        }
        Channel::Email => person
            .email
            .iter()
            .map(|e| UsedDetail {
                label: "Email".into(),
                detail: e.clone(),
            })
            .collect(),
        Channel::Letter | Channel::HomeVisit => {
            let mut text = address_text(&person.address);
            if let Some(p) = &person.address.postcode {
                if !text.is_empty() {
                    text.push_str(", ");
                }
                text.push_str(p.as_str());
            }
            (!text.is_empty())
                .then(|| UsedDetail {
                    label: "Address".into(),
                    detail: text,
                })
                .into_iter()
                .collect()
        }
        Channel::SocialMedia => person
            .social
            .iter()
            .map(|s| UsedDetail {
                label: s.platform.clone(),
                detail: s.handle.clone(),
            })
            .collect(),
        Channel::FaceToFace
        | Channel::ViaSchool
        | Channel::ViaCollege
        | Channel::ViaOtherProfessional => Vec::new(),
    }
}

/// The detail a caseworker named for an attempt, from those it could use:
/// "none", a label ("mobile", "parent", "email", "instagram") or the detail
/// itself ("07700 900123"). `None` typed, the first (what the form offers
/// first); "none", or nothing to choose from, records none.
pub fn pick_used(
    options: &[UsedDetail],
    typed: Option<&str>,
) -> Result<Option<UsedDetail>, DomainError> {
    let Some(typed) = typed.map(str::trim) else {
        return Ok(options.first().cloned());
    };
    if typed.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let key = |s: &str| s.to_lowercase().replace([' ', '/', '-', '_'], "");
    let digits = super::person::digits(typed);
    let found = options.iter().find(|o| {
        key(&o.detail) == key(typed)
            || (digits.len() >= 10 && super::person::digits(&o.detail) == digits)
    });
    let found = found.or_else(|| {
        let mut by_label = options
            .iter()
            .filter(|o| !typed.is_empty() && key(&o.label).starts_with(&key(typed)));
        match (by_label.next(), by_label.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    });
    match found {
        Some(o) => Ok(Some(o.clone())),
        None => Err(DomainError::NotOnRecord {
            what: "number, address or handle",
            options: if options.is_empty() {
                "none for this channel".into()
            } else {
                options
                    .iter()
                    .map(|o| o.label.to_lowercase())
                    .chain(["none".to_string()])
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        }),
    }
}

/// The phone labels the form edits, one number each; other numbers are kept.
pub const EDITED_PHONES: [PhoneLabel; 3] = [
    PhoneLabel::Mobile,
    PhoneLabel::Home,
    PhoneLabel::ParentCarer,
];

/// What the caseworker changed: `Some` is the new text ("" clears), `None`
/// leaves the detail as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DetailsEdit {
    /// One per [`EDITED_PHONES`] label.
    pub phones: [Option<String>; 3],
    pub email: Option<String>,
    /// Lines and town, comma-separated ("7 Mill Lane, Dover").
    pub address: Option<String>,
    pub postcode: Option<String>,
    /// A channel's name, or "" for no preference.
    pub preferred: Option<String>,
    /// Handles as "Platform handle", separated by ";" ("Instagram pat.r").
    pub social: Option<String>,
    /// "given", "refused" or "not asked".
    pub consent: Option<String>,
    /// Who gave or refused it, how ("by phone to a.khan").
    pub consent_note: Option<String>,
    /// Set when the edit follows an attempt that showed a number or address
    /// does not work: what it replaces or clears is kept as not working.
    pub not_working: Option<Outcome>,
    /// The authority they live in: "" or "here", or another's DfE code.
    pub lives_in: Option<String>,
    /// Where they learn: "here", a code, or "same" (as where they live).
    /// Not given, where they learn now, whatever `lives_in` becomes.
    pub learns_in: Option<String>,
}

/// The details as the form shows them: the text of each field.
pub fn shown(person: &YoungPerson) -> DetailsText {
    let (lives_in, learns_in) = person.residence.texts();
    let phone = |label| {
        person
            .phones
            .iter()
            .find(|p| p.label == label)
            .map_or_else(String::new, |p| p.number.clone())
    };
    DetailsText {
        phones: EDITED_PHONES.map(phone),
        email: person.email.clone().unwrap_or_default(),
        address: address_text(&person.address),
        postcode: person
            .address
            .postcode
            .as_ref()
            .map_or_else(String::new, |p| p.as_str().to_string()),
        preferred: person
            .contact_preferences
            .preferred
            .map_or_else(String::new, |c| c.label().to_string()),
        social: person
            .social
            .iter()
            .map(|s| format!("{} {}", s.platform, s.handle))
            .collect::<Vec<_>>()
            .join("; "),
        consent: person.consent.status.label().to_string(),
        consent_note: person.consent.note.clone(),
        lives_in,
        learns_in,
    }
}

/// "Instagram pat.r; Facebook pat" as handles: the first word names the platform.
fn social_handles(typed: &str) -> Result<Vec<SocialHandle>, DomainError> {
    typed
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s.split_once(char::is_whitespace) {
            Some((platform, handle)) if !handle.trim().is_empty() => Ok(SocialHandle {
                platform: platform.to_string(),
                handle: handle.trim().to_string(),
            }),
            _ => Err(DomainError::Invalid {
                field: "social media",
                reason: "give each as the platform then the handle, e.g. \"Instagram pat.r\"",
            }),
        })
        .collect()
}

/// The text of each edited detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetailsText {
    pub phones: [String; 3],
    pub email: String,
    pub address: String,
    pub postcode: String,
    pub preferred: String,
    pub social: String,
    pub consent: String,
    pub consent_note: String,
    pub lives_in: String,
    pub learns_in: String,
}

fn address_text(a: &Address) -> String {
    let mut parts = a.lines.clone();
    if !a.town.is_empty() {
        parts.push(a.town.clone());
    }
    parts.join(", ")
}

fn consent_status(typed: &str) -> Result<ConsentStatus, DomainError> {
    match typed.trim().to_ascii_lowercase().as_str() {
        "given" | "yes" => Ok(ConsentStatus::Given),
        "refused" | "no" => Ok(ConsentStatus::Refused),
        "not asked" | "not-asked" | "" => Ok(ConsentStatus::NotAsked),
        other => ConsentStatus::parse(other),
    }
}

impl DetailsEdit {
    /// The field values to record for `person`, today; empty if nothing
    /// changed. Each value is checked here as the store would check it.
    pub fn changes(
        &self,
        person: &YoungPerson,
        today: NaiveDate,
    ) -> Result<Vec<FieldValue>, DomainError> {
        let mut changes = Vec::new();
        let mut dead: Vec<NotWorking> = Vec::new();
        let mut lost = |detail: String| {
            if let Some(how) = self.not_working
                && !detail.is_empty()
            {
                dead.push(NotWorking {
                    detail,
                    found_on: today,
                    how,
                });
            }
        };

        if self.phones.iter().any(Option::is_some) {
            let mut phones = Vec::new();
            for (label, typed) in EDITED_PHONES.iter().zip(&self.phones) {
                let old = person.phones.iter().find(|p| p.label == *label);
                match typed.as_deref().map(str::trim) {
                    None => phones.extend(old.cloned()),
                    Some(new) => {
                        if let Some(old) = old
                            && old.digits() != super::person::digits(new)
                        {
                            lost(old.number.clone());
                        }
                        if !new.is_empty() {
                            phones.push(PhoneNumber::new(*label, new)?);
                        }
                    }
                }
            }
            // Numbers under other labels (and second numbers) are kept.
            let mut seen = EDITED_PHONES.map(|_| false);
            for p in &person.phones {
                match EDITED_PHONES.iter().position(|l| *l == p.label) {
                    Some(i) if !seen[i] => seen[i] = true,
                    _ => phones.push(p.clone()),
                }
            }
            if phones != person.phones {
                changes.push(FieldValue::Phones(phones));
            }
        }
        if let Some(email) = &self.email {
            let email = Some(email.trim().to_string()).filter(|e| !e.is_empty());
            if email != person.email {
                changes.push(FieldValue::Email(email));
            }
        }
        if self.address.is_some() || self.postcode.is_some() {
            let mut address = person.address.clone();
            if let Some(typed) = &self.address {
                let mut parts: Vec<String> = typed
                    .split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect();
                address.town = parts.pop().unwrap_or_default();
                address.lines = parts;
            }
            if let Some(typed) = &self.postcode {
                address.postcode = match typed.trim() {
                    "" => None,
                    p => Some(Postcode::parse(p)?),
                };
            }
            if address != person.address {
                address.validate()?;
                if address_text(&address) != address_text(&person.address) {
                    lost(address_text(&person.address));
                }
                changes.push(FieldValue::Address(address));
            }
        }
        if let Some(typed) = &self.preferred {
            let preferred = match typed.trim() {
                "" => None,
                c => Some(Channel::parse(c)?),
            };
            if preferred != person.contact_preferences.preferred {
                let mut prefs = person.contact_preferences.clone();
                prefs.preferred = preferred;
                changes.push(FieldValue::ContactPreferences(prefs));
            }
        }
        if let Some(typed) = &self.social {
            let social = social_handles(typed)?;
            if social != person.social {
                changes.push(FieldValue::Social(social));
            }
        }
        if self.consent.is_some() || self.consent_note.is_some() {
            let status = match &self.consent {
                Some(typed) => consent_status(typed)?,
                None => person.consent.status,
            };
            let note = match &self.consent_note {
                Some(typed) => typed.trim().to_string(),
                None => person.consent.note.clone(),
            };
            if status != person.consent.status || note != person.consent.note {
                // Dated when it was given, refused or changed: today.
                changes.push(FieldValue::Consent(Consent {
                    status,
                    recorded_on: (status != ConsentStatus::NotAsked).then_some(today),
                    note,
                }));
            }
        }
        if self.lives_in.is_some() || self.learns_in.is_some() {
            let (lives, learns) = person.residence.texts();
            let residence = Residence::parse(
                self.lives_in.as_deref().unwrap_or(&lives),
                self.learns_in.as_deref().unwrap_or(&learns),
            )?;
            if residence != person.residence {
                changes.push(FieldValue::Residence(residence));
            }
        }
        if !dead.is_empty() {
            let mut all = person.not_working.clone();
            all.extend(dead);
            changes.push(FieldValue::NotWorking(all));
        }
        for c in &changes {
            c.validate(Some(person.date_of_birth), today)?;
        }
        Ok(changes)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::PersonId;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).expect("date")
    }

    /// Pat, with a mobile, another number, an email and an address.
    pub(crate) fn person() -> YoungPerson {
        YoungPerson {
            id: PersonId::mint(),
            name: Default::default(),
            date_of_birth: NaiveDate::from_ymd_opt(2009, 5, 1).expect("date"),
            gender: crate::domain::person::Gender::NotKnown,
            upn: None,
            uln: None,
            social: Vec::new(),
            contact_preferences: Default::default(),
            consent: Default::default(),
            district: crate::domain::District::Dover,
            school_or_provider: None,
            send: crate::domain::person::SendStatus::NoSend,
            characteristics: Vec::new(),
            level_of_need: None,
            risk_indicators: Default::default(),
            assigned_workers: Default::default(),
            not_working: Vec::new(),
            residence: Default::default(),
            phones: vec![
                PhoneNumber::new(PhoneLabel::Mobile, "07700 900123").expect("phone"),
                PhoneNumber::new(PhoneLabel::Other, "01632 960000").expect("phone"),
            ],
            email: Some("pat@example.org".into()),
            address: Address {
                lines: vec!["7 Mill Lane".into()],
                town: "Dover".into(),
                postcode: Postcode::parse("CT16 1AA").ok(),
            },
        }
    }

    #[test]
    fn nothing_typed_changes_nothing() {
        let p = person();
        let t = shown(&p);
        let same = DetailsEdit {
            phones: t.phones.clone().map(Some),
            email: Some(t.email.clone()),
            address: Some(t.address.clone()),
            postcode: Some(t.postcode.clone()),
            preferred: Some(t.preferred.clone()),
            social: Some(t.social.clone()),
            consent: Some(t.consent.clone()),
            consent_note: Some(t.consent_note.clone()),
            not_working: None,
            lives_in: Some(t.lives_in.clone()),
            learns_in: Some(t.learns_in.clone()),
        };
        assert_eq!(same.changes(&p, day(23)), Ok(vec![]));
        assert_eq!(DetailsEdit::default().changes(&p, day(23)), Ok(vec![]));
    }

    #[test]
    fn a_new_mobile_after_a_wrong_number_keeps_the_old_one_as_not_working() {
        let p = person();
        let edit = DetailsEdit {
            phones: [Some("07700 900999".into()), None, None],
            not_working: Some(Outcome::WrongNumber),
            ..Default::default()
        };
        let changes = edit.changes(&p, day(23)).expect("valid");
        let FieldValue::Phones(phones) = &changes[0] else {
            panic!("phones first: {changes:?}");
        };
        let numbers: Vec<&str> = phones.iter().map(|p| p.number.as_str()).collect();
        assert_eq!(
            numbers,
            ["07700 900999", "01632 960000"],
            "the other number kept"
        );
        assert_eq!(
            changes[1],
            FieldValue::NotWorking(vec![NotWorking {
                detail: "07700 900123".into(),
                found_on: day(23),
                how: Outcome::WrongNumber,
            }])
        );
    }

    #[test]
    fn address_preference_and_consent_are_parsed_and_checked() {
        let p = person();
        let edit = DetailsEdit {
            address: Some("Flat 2, 9 Castle Street, Dover".into()),
            postcode: Some("ct17 9bt".into()),
            preferred: Some("text".into()),
            consent: Some("given".into()),
            consent_note: Some("by phone, to a.khan".into()),
            social: Some("Instagram pat.r; Snapchat patr".into()),
            ..Default::default()
        };
        let changes = edit.changes(&p, day(23)).expect("valid");
        assert!(changes.contains(&FieldValue::Address(Address {
            lines: vec!["Flat 2".into(), "9 Castle Street".into()],
            town: "Dover".into(),
            postcode: Postcode::parse("CT17 9BT").ok(),
        })));
        assert!(changes.iter().any(|c| matches!(
            c,
            FieldValue::ContactPreferences(p) if p.preferred == Some(Channel::Text)
        )));
        assert!(changes.iter().any(|c| matches!(
            c,
            FieldValue::Consent(c) if c.status == ConsentStatus::Given
                && c.recorded_on == Some(day(23))
                && c.note == "by phone, to a.khan"
        )));
        assert!(changes.iter().any(|c| matches!(
            c,
            FieldValue::Social(s) if s.len() == 2 && s[1].platform == "Snapchat"
        )));
        for bad in [
            DetailsEdit {
                phones: [Some("12".into()), None, None],
                ..Default::default()
            },
            DetailsEdit {
                postcode: Some("not a postcode".into()),
                ..Default::default()
            },
            DetailsEdit {
                preferred: Some("pigeon".into()),
                ..Default::default()
            },
            DetailsEdit {
                email: Some("no at sign".into()),
                ..Default::default()
            },
            DetailsEdit {
                social: Some("justonething".into()),
                ..Default::default()
            },
        ] {
            assert!(bad.changes(&p, day(23)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn each_channel_offers_the_details_it_can_use() {
        let mut p = person();
        p.phones
            .push(PhoneNumber::new(PhoneLabel::ParentCarer, "01632 960111").expect("phone"));
        p.social = vec![SocialHandle {
            platform: "Instagram".into(),
            handle: "pat.r".into(),
        }];
        let labels = |c| {
            reachable(&p, c)
                .into_iter()
                .map(|u| u.describe())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            labels(Channel::Phone),
            [
                "07700 900123 (Mobile)",
                "01632 960000 (Other)",
                "01632 960111 (Parent/carer)"
            ]
        );
        assert_eq!(
            labels(Channel::ViaParentCarer)[0],
            "01632 960111 (Parent/carer)"
        );
        assert_eq!(labels(Channel::Email), ["pat@example.org (Email)"]);
        assert_eq!(
            labels(Channel::Letter),
            ["7 Mill Lane, Dover, CT16 1AA (Address)"]
        );
        assert_eq!(labels(Channel::SocialMedia), ["pat.r (Instagram)"]);
        for c in [Channel::FaceToFace, Channel::ViaSchool] {
            assert!(labels(c).is_empty(), "{c:?}");
            assert!(!c.uses_a_detail());
        }
    }

    #[test]
    fn the_detail_used_is_named_by_label_or_number_and_never_echoed() {
        let options = reachable(&person(), Channel::Phone);
        let pick = |typed| pick_used(&options, typed).map(|u| u.map(|u| u.label));
        assert_eq!(
            pick(None),
            Ok(Some("Mobile".into())),
            "the first, as the form"
        );
        assert_eq!(pick(Some("other")), Ok(Some("Other".into())));
        assert_eq!(pick(Some("01632960000")), Ok(Some("Other".into())));
        assert_eq!(pick(Some("none")), Ok(None));
        let refused = pick(Some("07999 999999")).expect_err("not on the record");
        let words = refused.to_string();
        assert!(words.contains("mobile, other, none"), "{words}");
        assert!(
            !words.contains("07999"),
            "the typed number is not repeated: {words}"
        );
        assert_eq!(pick_used(&[], None), Ok(None));
    }

    #[test]
    fn a_move_keeps_where_they_learn_unless_that_is_changed_too() {
        use crate::domain::residence::{Authority, LaCode};
        let p = person();
        let la = |c| Authority::Other(LaCode::new(c).expect("code"));
        let moved = DetailsEdit {
            lives_in: Some("305".into()),
            ..Default::default()
        };
        let changes = moved.changes(&p, day(23)).expect("valid");
        let [FieldValue::Residence(r)] = changes.as_slice() else {
            panic!("one change: {changes:?}");
        };
        assert_eq!((r.lives, r.learns_in()), (la(305), Authority::Here));
        assert!(!r.resident_here());
        let both = DetailsEdit {
            lives_in: Some("305".into()),
            learns_in: Some("same".into()),
            ..Default::default()
        };
        let changes = both.changes(&p, day(23)).expect("valid");
        assert!(matches!(
            changes.as_slice(),
            [FieldValue::Residence(r)] if r.learns_in() == la(305) && r.learns.is_none()
        ));
        let bad = DetailsEdit {
            learns_in: Some("Kent".into()),
            ..Default::default()
        };
        assert!(bad.changes(&p, day(23)).is_err());
    }
}
