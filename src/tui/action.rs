//! Named actions. Keymaps bind keys to these names; views never see keys.

macro_rules! actions {
    ($( $variant:ident => $name:literal, $help:literal; )+) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $( $variant ),+ }

        impl Action {
            pub const ALL: &'static [Action] = &[ $( Action::$variant ),+ ];

            /// The name used in keymap files and the command palette.
            pub fn name(self) -> &'static str {
                match self { $( Action::$variant => $name ),+ }
            }

            /// What it does, for the help overlay and the palette.
            pub fn help(self) -> &'static str {
                match self { $( Action::$variant => $help ),+ }
            }

            pub fn from_name(name: &str) -> Option<Action> {
                match name { $( $name => Some(Action::$variant), )+ _ => None }
            }
        }
    };
}

actions! {
    Quit => "quit", "Quit caseload";
    Help => "help", "Show the keys for this screen";
    Messages => "messages", "Recent messages, in full";
    Palette => "palette", "Find any action by name";
    Lock => "lock", "Lock now: clear the screen and forget the key";
    Sync => "sync", "Sync with the hub now";
    Back => "back", "Go back / close";
    GoCaseload => "go-caseload", "Caseload: everyone, with filters";
    GoAgenda => "go-agenda", "My day: what needs doing";
    GoQueue => "go-queue", "Tracking queue: ring through a list";
    GoDashboard => "go-dashboard", "Dashboard: figures against targets";
    GoReturns => "go-returns", "Returns: the month's figures and the records to put right";
    Up => "up", "Move up";
    Down => "down", "Move down";
    PageUp => "page-up", "Up a page";
    PageDown => "page-down", "Down a page";
    Top => "top", "To the top";
    Bottom => "bottom", "To the bottom";
    Open => "open", "Open the selected young person";
    Search => "search", "Search by name, id, postcode or phone";
    SortNext => "sort-next", "Sort by the next column";
    SortReverse => "sort-reverse", "Reverse the sort order";
    FilterRag => "filter-rag", "Filter by RAG (cycles)";
    FilterStatus => "filter-status", "Filter by status group (cycles)";
    FilterDistrict => "filter-district", "Filter by district (cycles)";
    FilterGroup => "filter-group", "Filter by vulnerable group (cycles)";
    FilterOverdue => "filter-overdue", "Only overdue follow-ups (toggle)";
    FilterMine => "filter-mine", "Only my caseload (toggle)";
    ClearFilters => "clear-filters", "Clear search and filters";
    StartQueue => "start-queue", "Track through the people listed";
    LogContact => "log-contact", "Log a contact attempt";
    SetActivity => "set-activity", "Set the current activity";
    RateRisk => "rate-risk", "Rate the risk of NEET";
    AddNote => "add-note", "Add a note to the record";
    FollowUpDone => "follow-up-done", "Mark your next follow-up for this young person done";
    EditDetails => "edit-details", "Edit phones, email, address, preferred channel and consent";
    ClearField => "clear-field", "Clear the field being typed in";
    RecordOffer => "record-offer", "Record a September Guarantee offer";
    RecordDestination => "record-destination", "Record the intended destination";
    Undo => "undo", "Correct what you just saved (kept, marked as entered in error)";
    Submit => "submit", "Save the form";
    NextField => "next-field", "Next field";
    PrevField => "prev-field", "Previous field";
    ChannelPhone => "channel-phone", "Channel: phone";
    ChannelText => "channel-text", "Channel: text message";
    ChannelEmail => "channel-email", "Channel: email";
    ChannelLetter => "channel-letter", "Channel: letter";
    ChannelSocial => "channel-social", "Channel: social media";
    ChannelHomeVisit => "channel-home-visit", "Channel: home visit";
    ChannelFaceToFace => "channel-face-to-face", "Channel: face to face";
    ChannelViaSchool => "channel-via-school", "Channel: via school";
    ChannelViaCollege => "channel-via-college", "Channel: via college";
    ChannelViaParent => "channel-via-parent", "Channel: via parent/carer";
    ChannelViaProfessional => "channel-via-professional", "Channel: via other professional";
    OutcomeNoAnswer => "outcome-no-answer", "Outcome: no answer";
    OutcomeVoicemail => "outcome-voicemail", "Outcome: voicemail left";
    OutcomeWrongNumber => "outcome-wrong-number", "Outcome: wrong or unobtainable number";
    OutcomePostReturned => "outcome-post-returned", "Outcome: post returned";
    OutcomeSentNoReply => "outcome-sent-no-reply", "Outcome: sent, no reply";
    OutcomeSpokeYoungPerson => "outcome-spoke-young-person", "Outcome: spoke to the young person";
    OutcomeSpokeParent => "outcome-spoke-parent", "Outcome: spoke to parent/carer";
    OutcomeSpokeThirdParty => "outcome-spoke-third-party", "Outcome: spoke to a third party";
    OutcomeRefused => "outcome-refused", "Outcome: refused to engage";
    RagRed => "rag-red", "Rate Red";
    RagAmber => "rag-amber", "Rate Amber";
    RagGreen => "rag-green", "Rate Green";
    QueueSkip => "queue-skip", "Skip to the next person in the queue";
    QueuePrevious => "queue-previous", "Back to the previous person in the queue";
}

use crate::domain::records::Rag;
use crate::domain::{Channel, Outcome};

impl Action {
    pub fn channel(self) -> Option<Channel> {
        Some(match self {
            Action::ChannelPhone => Channel::Phone,
            Action::ChannelText => Channel::Text,
            Action::ChannelEmail => Channel::Email,
            Action::ChannelLetter => Channel::Letter,
            Action::ChannelSocial => Channel::SocialMedia,
            Action::ChannelHomeVisit => Channel::HomeVisit,
            Action::ChannelFaceToFace => Channel::FaceToFace,
            Action::ChannelViaSchool => Channel::ViaSchool,
            Action::ChannelViaCollege => Channel::ViaCollege,
            Action::ChannelViaParent => Channel::ViaParentCarer,
            Action::ChannelViaProfessional => Channel::ViaOtherProfessional,
            _ => return None,
        })
    }

    pub fn outcome(self) -> Option<Outcome> {
        Some(match self {
            Action::OutcomeNoAnswer => Outcome::NoAnswer,
            Action::OutcomeVoicemail => Outcome::VoicemailLeft,
            Action::OutcomeWrongNumber => Outcome::WrongNumber,
            Action::OutcomePostReturned => Outcome::PostReturned,
            Action::OutcomeSentNoReply => Outcome::SentNoReply,
            Action::OutcomeSpokeYoungPerson => Outcome::SpokeToYoungPerson,
            Action::OutcomeSpokeParent => Outcome::SpokeToParentCarer,
            Action::OutcomeSpokeThirdParty => Outcome::SpokeToThirdParty,
            Action::OutcomeRefused => Outcome::Refused,
            _ => return None,
        })
    }

    pub fn rag(self) -> Option<Rag> {
        Some(match self {
            Action::RagRed => Rag::Red,
            Action::RagAmber => Rag::Amber,
            Action::RagGreen => Rag::Green,
            _ => return None,
        })
    }
}

/// The actions the palette offers (those that make sense outside a form).
pub fn palette_actions() -> &'static [Action] {
    // Worked out once: every key in an open form or the palette asks for it.
    static ACTIONS: std::sync::OnceLock<Vec<Action>> = std::sync::OnceLock::new();
    ACTIONS.get_or_init(|| {
        Action::ALL
            .iter()
            .copied()
            .filter(|a| {
                a.channel().is_none()
                    && a.outcome().is_none()
                    && a.rag().is_none()
                    && !matches!(
                        a,
                        Action::Submit
                            | Action::NextField
                            | Action::PrevField
                            | Action::Up
                            | Action::Down
                            | Action::Palette
                    )
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut names = std::collections::HashSet::new();
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(*a));
            assert!(names.insert(a.name()), "duplicate {}", a.name());
        }
    }
}
