//! Who may see which young person. Enforced by the hub on every push and pull;
//! a pure function of the user, the person's current record and the tracking
//! lists, so it is the same everywhere and testable on its own.

use super::users::{Role, User};
use crate::domain::{CaseSummary, PersonId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A call-centre list: the people a tracker rings through.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingList {
    pub name: String,
    pub trackers: BTreeSet<String>,
    pub members: BTreeSet<PersonId>,
}

/// Whether `user` may see (pull) and change (push) this young person.
pub fn can_see(user: &User, person: &CaseSummary, lists: &[TrackingList]) -> bool {
    if user.revoked {
        return false;
    }
    match user.role {
        Role::Admin => true,
        Role::Manager => user.district == Some(person.district),
        // Compared in place: every pull asks this of every person.
        Role::Officer => person.assigned.iter().any(|w| w.0 == user.name),
        Role::Tracker => lists
            .iter()
            .any(|l| l.trackers.contains(&user.name) && l.members.contains(&person.id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ops::{FieldSet, Hlc};
    use crate::domain::person::PersonName;
    use crate::domain::{
        DeviceId, District, FieldValue, Op, OpId, OpPayload, PersonState, WorkerId,
    };
    use chrono::NaiveDate;

    fn summary(n: u128, district: District, assigned: &[&str]) -> CaseSummary {
        let id = PersonId(uuid::Uuid::from_u128(n));
        let values = vec![
            FieldValue::Name(PersonName {
                given: "A".into(),
                family: "B".into(),
                preferred: None,
            }),
            FieldValue::DateOfBirth(NaiveDate::from_ymd_opt(2010, 1, 1).unwrap()),
            FieldValue::District(district),
            FieldValue::AssignedWorkers(assigned.iter().map(|w| WorkerId::new(*w)).collect()),
        ];
        let op = Op {
            id: OpId(uuid::Uuid::from_u128(n + 1000)),
            at: Hlc::new(1, 0),
            author: WorkerId::new("import"),
            device: DeviceId(uuid::Uuid::from_u128(1)),
            person: id,
            payload: OpPayload::SetFields(values.into_iter().map(FieldSet::new).collect()),
        };
        CaseSummary::of(&PersonState::fold(id, [&op])).unwrap()
    }

    fn user(name: &str, role: Role, district: Option<District>) -> User {
        User {
            name: name.into(),
            role,
            district,
            revoked: false,
            created_millis: 0,
        }
    }

    #[test]
    fn each_role_sees_its_own() {
        let mine = summary(1, District::Thanet, &["j.smith"]);
        let theirs = summary(2, District::Thanet, &["a.khan"]);
        let dover = summary(3, District::Dover, &[]);
        let list = TrackingList {
            name: "Not Known – Dover".into(),
            trackers: BTreeSet::from(["t.one".to_string()]),
            members: BTreeSet::from([dover.id]),
        };
        let lists = [list];
        let officer = user("j.smith", Role::Officer, None);
        assert!(can_see(&officer, &mine, &lists));
        assert!(!can_see(&officer, &theirs, &lists));
        let tracker = user("t.one", Role::Tracker, None);
        assert!(can_see(&tracker, &dover, &lists));
        assert!(!can_see(&tracker, &mine, &lists));
        assert!(!can_see(
            &user("t.two", Role::Tracker, None),
            &dover,
            &lists
        ));
        let manager = user("m.jones", Role::Manager, Some(District::Thanet));
        assert!(can_see(&manager, &mine, &lists) && can_see(&manager, &theirs, &lists));
        assert!(!can_see(&manager, &dover, &lists));
        let admin = user("root", Role::Admin, None);
        assert!(
            [&mine, &theirs, &dover]
                .iter()
                .all(|p| can_see(&admin, p, &lists))
        );
        let mut revoked = admin.clone();
        revoked.revoked = true;
        assert!(!can_see(&revoked, &mine, &lists));
    }
}
