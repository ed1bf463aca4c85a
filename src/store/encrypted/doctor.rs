//! `doctor`: every record decrypted, every person's ops folded again and
//! compared with the record and the summary stored.

use super::{
    CaseStore, CaseSummary, Damaged, DoctorReport, EncryptedStore, PersonId, PersonState, Result,
    STATE_IS_ITS_OP, T_OPS, T_PEOPLE, WATERMARK_FILE, files, hex8, ops_under, outbox_count,
    outbox_damaged, record_name, watermark,
};
use crate::domain::Op;
use std::collections::{HashMap, HashSet};

/// The summaries stored, by person: each is taken out as its record is
/// checked, so what is left has no record.
type StoredSummaries = HashMap<PersonId, CaseSummary>;

impl EncryptedStore {
    /// Decrypts every record, re-folds every person's ops and compares the result
    /// with the stored state and summary.
    pub fn doctor(&self) -> Result<DoctorReport> {
        self.settle()?;
        let mut report = DoctorReport {
            permissions_fixed: files::tighten_permissions(&self.dir)?,
            ..DoctorReport::default()
        };
        let (all_summaries, damaged_summaries) = self.summaries()?;
        report.damaged.extend(damaged_summaries);
        let mut summaries: StoredSummaries = all_summaries.into_iter().map(|s| (s.id, s)).collect();
        let mut people_seen: HashSet<[u8; 16]> = HashSet::new();
        for item in self.people.iter() {
            let (k, v) = item?;
            report.people += 1;
            let Ok(id_bytes) = <[u8; 16]>::try_from(k.as_ref()) else {
                report.damaged.push(Damaged {
                    tree: T_PEOPLE,
                    record: hex8(&k),
                    reason: "key is not a person id".into(),
                });
                continue;
            };
            people_seen.insert(id_bytes);
            // `None`: kept as its one op, so the record is the ops folded.
            let stored: Option<PersonState> = if v == STATE_IS_ITS_OP {
                None
            } else {
                match self.unseal(T_PEOPLE, &k, &v) {
                    Ok(s) => Some(s),
                    Err(d) => {
                        report.damaged.push(d);
                        continue;
                    }
                }
            };
            self.check_person(
                PersonId::from_bytes(id_bytes),
                stored,
                &mut report,
                &mut summaries,
            )?;
        }
        // Ops of people with no key in `people`: from format 2 on, a record
        // kept as its one op; before it, ops with no record.
        let unmarked = self.header.one_op_records_unmarked();
        let mut ops_found = 0usize;
        let mut kept_as_their_op: Vec<[u8; 16]> = Vec::new();
        for item in self.ops.iter().keys() {
            let k = item?;
            ops_found += ops_under(&k).unwrap_or(1);
            match k.get(..16).and_then(|p| <[u8; 16]>::try_from(p).ok()) {
                Some(person) if people_seen.contains(&person) => {}
                // The keys are in order, so a person's ops come together.
                Some(person) if unmarked => {
                    if kept_as_their_op.last() != Some(&person) {
                        kept_as_their_op.push(person);
                    }
                }
                _ => report.orphan_ops += ops_under(&k).unwrap_or(1),
            }
        }
        for person in kept_as_their_op {
            report.people += 1;
            self.check_person(
                PersonId::from_bytes(person),
                None,
                &mut report,
                &mut summaries,
            )?;
        }
        // Summaries of people with no stored state.
        report
            .summary_mismatch
            .extend(summaries.keys().map(|id| id.short()));
        // Records put back to an older copy (with sled alone, no key needed)
        // are fewer ops than the watermark vouches for.
        if let Ok(saved) = watermark::read(&self.dir.join(WATERMARK_FILE))
            && let Ok((_, _, Some(saved))) = self.saved_watermark(&saved)
            && (ops_found as u64) < saved
        {
            report.rolled_back = Some((saved, ops_found));
        }
        self.check_outbox(&mut report)?;
        Ok(report)
    }

    /// One person: their ops folded again against the record stored (`None`
    /// for a record kept as its one op) and the summary stored.
    fn check_person(
        &self,
        id: PersonId,
        stored: Option<PersonState>,
        report: &mut DoctorReport,
        summaries: &mut StoredSummaries,
    ) -> Result<()> {
        let mut ops = Vec::new();
        for item in self.ops.scan_prefix(id.as_bytes()) {
            let (ok, ov) = item?;
            match self.unseal_ops(&ok, &ov) {
                Ok(found) if self.filed_under(&found, id, &ok) => ops.extend(found),
                Ok(_) => report.damaged.push(Damaged {
                    tree: T_OPS,
                    record: record_name(T_OPS, &ok),
                    reason: "op is filed under the wrong key".into(),
                }),
                Err(d) => report.damaged.push(d),
            }
        }
        report.ops += ops.len();
        let folded = PersonState::fold(id, &ops);
        let stored = match stored {
            Some(stored) if stored != folded => {
                report.state_mismatch.push(id.short());
                stored
            }
            Some(stored) => stored,
            // Nothing keeps a record of more than one op as its op.
            None if !folded.is_one_op() => {
                report.state_mismatch.push(id.short());
                folded
            }
            None => folded,
        };
        let held = summaries.remove(&id);
        if !CaseSummary::is_stored_as(CaseSummary::of(&stored).as_ref(), held.as_ref()) {
            report.summary_mismatch.push(id.short());
        }
        Ok(())
    }

    /// Whether `ops`, read under `key`, are filed where they belong: all
    /// the person's, under the first one's key.
    fn filed_under(&self, ops: &[Op], id: PersonId, key: &[u8]) -> bool {
        ops.iter().all(|op| op.person == id)
            && ops
                .first()
                .is_some_and(|first| self.op_key(first)[..] == key[..32])
    }

    /// Every outbox entry decrypts and names ops the store holds.
    fn check_outbox(&self, report: &mut DoctorReport) -> Result<()> {
        for item in self.outbox.iter() {
            let (k, v) = item?;
            report.outbox += outbox_count(&k);
            let listed = match self.outbox_op_keys(&k, &v) {
                Ok(listed) => listed,
                Err(d) => {
                    report.damaged.push(d);
                    continue;
                }
            };
            for (ops_key, _) in listed {
                if !self.ops.contains_key(ops_key)? {
                    report
                        .damaged
                        .push(outbox_damaged(&k, "points at an op that is not in the log"));
                    break;
                }
            }
        }
        Ok(())
    }
}
