//! The dashboard: the statutory figures against targets, worked out when the
//! screen is opened.

use crate::config::Config;
use crate::domain::{District, Summaries};
use crate::report::{self, Figures, VulnerableGroup};
use chrono::NaiveDate;

/// What the dashboard shows.
pub struct DashboardData {
    pub headline: Figures,
    /// Month ends of the last year and the headline at each, oldest first.
    pub trend: Vec<(NaiveDate, Figures)>,
    pub districts: Vec<(District, Figures)>,
    pub groups: Vec<(VulnerableGroup, Figures)>,
}

impl DashboardData {
    pub fn build(all: Summaries<'_>, today: NaiveDate, config: &Config) -> Self {
        let currency = &config.currency;
        DashboardData {
            headline: report::headline(all, today, currency),
            trend: report::monthly_trend(all, today, currency, 12),
            districts: report::by_district(all, today, currency),
            groups: report::by_group(all, today, currency, config.cohort.send_upper_age),
        }
    }
}
