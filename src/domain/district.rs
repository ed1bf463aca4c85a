//! Kent's twelve districts in four areas, plus "out of county".

use super::error::{DomainError, parse_named};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Area {
    North,
    East,
    South,
    West,
    OutOfCounty,
}

impl Area {
    pub const ALL: [Area; 5] = [
        Area::North,
        Area::East,
        Area::South,
        Area::West,
        Area::OutOfCounty,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Area::North => "North",
            Area::East => "East",
            Area::South => "South",
            Area::West => "West",
            Area::OutOfCounty => "Out of county",
        }
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum District {
    Dartford,
    Gravesham,
    Sevenoaks,
    Canterbury,
    Swale,
    Thanet,
    Ashford,
    Dover,
    FolkestoneAndHythe,
    Maidstone,
    TonbridgeAndMalling,
    TunbridgeWells,
    OutOfCounty,
}

impl District {
    pub const ALL: [District; 13] = [
        District::Dartford,
        District::Gravesham,
        District::Sevenoaks,
        District::Canterbury,
        District::Swale,
        District::Thanet,
        District::Ashford,
        District::Dover,
        District::FolkestoneAndHythe,
        District::Maidstone,
        District::TonbridgeAndMalling,
        District::TunbridgeWells,
        District::OutOfCounty,
    ];

    pub fn label(self) -> &'static str {
        match self {
            District::Dartford => "Dartford",
            District::Gravesham => "Gravesham",
            District::Sevenoaks => "Sevenoaks",
            District::Canterbury => "Canterbury",
            District::Swale => "Swale",
            District::Thanet => "Thanet",
            District::Ashford => "Ashford",
            District::Dover => "Dover",
            District::FolkestoneAndHythe => "Folkestone and Hythe",
            District::Maidstone => "Maidstone",
            District::TonbridgeAndMalling => "Tonbridge and Malling",
            District::TunbridgeWells => "Tunbridge Wells",
            District::OutOfCounty => "Out of county",
        }
    }

    /// At most 11 characters, for narrow tables.
    pub fn short_label(self) -> &'static str {
        match self {
            District::FolkestoneAndHythe => "Folkestone",
            District::TonbridgeAndMalling => "Tonbridge&M",
            District::TunbridgeWells => "Tunbridge W",
            District::OutOfCounty => "Out of cty",
            other => other.label(),
        }
    }

    pub fn area(self) -> Area {
        use District::*;
        match self {
            Dartford | Gravesham | Sevenoaks => Area::North,
            Canterbury | Swale | Thanet => Area::East,
            Ashford | Dover | FolkestoneAndHythe => Area::South,
            Maidstone | TonbridgeAndMalling | TunbridgeWells => Area::West,
            OutOfCounty => Area::OutOfCounty,
        }
    }

    /// Accepts the label in any case, with or without spaces, and "Shepway" (the
    /// district's name before 2018, still found in older records).
    pub fn parse(value: &str) -> Result<District, DomainError> {
        if value.trim().eq_ignore_ascii_case("shepway") {
            return Ok(District::FolkestoneAndHythe);
        }
        let options: Vec<(District, &'static str)> =
            District::ALL.iter().map(|d| (*d, d.label())).collect();
        parse_named("district", value, &options)
    }
}

impl fmt::Display for District {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_district_has_its_area() {
        assert_eq!(District::Thanet.area(), Area::East);
        assert_eq!(District::FolkestoneAndHythe.area(), Area::South);
        assert_eq!(District::TunbridgeWells.area(), Area::West);
        let kent = District::ALL
            .iter()
            .filter(|d| d.area() != Area::OutOfCounty)
            .count();
        assert_eq!(kent, 12);
    }

    #[test]
    fn parses_labels_loosely_and_old_names() {
        assert_eq!(
            District::parse("tunbridge wells"),
            Ok(District::TunbridgeWells)
        );
        assert_eq!(District::parse("Shepway"), Ok(District::FolkestoneAndHythe));
        assert!(matches!(
            District::parse("Narnia"),
            Err(DomainError::UnknownName { .. })
        ));
    }
}
