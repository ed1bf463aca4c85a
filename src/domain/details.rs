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
}

/// The details as the form shows them: the text of each field.
pub fn shown(person: &YoungPerson) -> DetailsText {
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
mod tests {
    use super::*;
    use crate::domain::PersonId;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).expect("date")
    }

    fn person() -> YoungPerson {
        YoungPerson {
            id: PersonId::random(),
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
}
