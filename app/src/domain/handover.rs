//! What an approved swap, cover or claimed open shift does to the schedule. A schedule
//! cell is one person's entry on one date (a shift, or nothing); a handover reads a few
//! cells and says what they hold afterwards. Shifts are exchanged between cells, never
//! invented or dropped (except the open shift a claim fills in), so the history and
//! statistics still see every shift, and a revoke writes the cells back.
//!
//! - swap on one day: the two people's shifts of that day change places;
//! - swap on two days: the requester's shift of `date` goes to the colleague, the
//!   colleague's shift of `peer_date` to the requester, and what each had on the other's
//!   day (a rest shift, or nothing) goes the other way;
//! - cover: the requester's shift of `date` goes to the colleague, who must be free;
//! - claim: the open shift is written into the claimant's (free) cell.

use std::collections::BTreeMap;

use chrono::NaiveDate;

/// A person and a date.
pub type CellKey = (i32, NaiveDate);

/// Cells and their shift ids (`None`: no entry). A cell missing from the map is empty.
pub type Cells = BTreeMap<CellKey, Option<i32>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handover {
    Swap {
        requester: i32,
        date: NaiveDate,
        peer: i32,
        peer_date: NaiveDate,
    },
    Cover {
        requester: i32,
        date: NaiveDate,
        peer: i32,
    },
    Claim {
        claimant: i32,
        date: NaiveDate,
        shift_id: i32,
    },
}

/// Why the schedule does not allow the handover: `field` is the request's field it is
/// about (`date`, `peer_date`, `peer_id`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HandoverError {
    pub field: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, message: String) -> HandoverError {
    HandoverError { field, message }
}

impl Handover {
    /// The cells it reads and writes.
    pub fn cells(&self) -> Vec<CellKey> {
        let mut cells = match *self {
            Self::Swap {
                requester,
                date,
                peer,
                peer_date,
            } => vec![
                (requester, date),
                (peer, date),
                (requester, peer_date),
                (peer, peer_date),
            ],
            Self::Cover {
                requester,
                date,
                peer,
            } => vec![(requester, date), (peer, date)],
            Self::Claim { claimant, date, .. } => vec![(claimant, date)],
        };
        cells.sort();
        cells.dedup();
        cells
    }

    /// The dates it changes.
    pub fn dates(&self) -> Vec<NaiveDate> {
        let mut dates: Vec<NaiveDate> = self.cells().into_iter().map(|(_, date)| date).collect();
        dates.sort();
        dates.dedup();
        dates
    }

    /// The cells after the handover, given what they hold now and which shifts are worked
    /// (a rest shift counts as free), or why the schedule does not allow it.
    pub fn apply(
        &self,
        before: &Cells,
        working: impl Fn(i32) -> bool,
    ) -> Result<Cells, HandoverError> {
        let cell = |key: CellKey| before.get(&key).copied().flatten();
        let works = |key: CellKey| cell(key).is_some_and(&working);
        let mut after: Cells = self
            .cells()
            .into_iter()
            .map(|key| (key, cell(key)))
            .collect();
        let mut exchange = |first: CellKey, second: CellKey| {
            let (a, b) = (cell(first), cell(second));
            after.insert(first, b);
            after.insert(second, a);
        };
        match *self {
            Self::Swap {
                requester,
                date,
                peer,
                peer_date,
            } => {
                if requester == peer {
                    return Err(refuse("peer_id", "不能和自己换班".to_owned()));
                }
                if !works((requester, date)) {
                    return Err(refuse("date", format!("申请人 {date} 没有要换出的班次")));
                }
                if !works((peer, peer_date)) {
                    return Err(refuse(
                        "peer_date",
                        format!("同事 {peer_date} 没有可换的班次"),
                    ));
                }
                if date == peer_date {
                    if cell((requester, date)) == cell((peer, date)) {
                        return Err(refuse(
                            "peer_id",
                            format!("两人 {date} 是同一个班次，无需换班"),
                        ));
                    }
                    exchange((requester, date), (peer, date));
                } else {
                    if works((peer, date)) {
                        return Err(refuse(
                            "peer_id",
                            format!(
                                "同事 {date} 已有班次，不能再换来一个：同一天换班请把两个日期设为相同"
                            ),
                        ));
                    }
                    if works((requester, peer_date)) {
                        return Err(refuse(
                            "peer_date",
                            format!("申请人 {peer_date} 已有班次，不能再换来一个"),
                        ));
                    }
                    exchange((requester, date), (peer, date));
                    exchange((requester, peer_date), (peer, peer_date));
                }
            }
            Self::Cover {
                requester,
                date,
                peer,
            } => {
                if requester == peer {
                    return Err(refuse("peer_id", "不能请自己代班".to_owned()));
                }
                if !works((requester, date)) {
                    return Err(refuse("date", format!("申请人 {date} 没有要让出的班次")));
                }
                if works((peer, date)) {
                    return Err(refuse(
                        "peer_id",
                        format!("同事 {date} 已有班次，不能代班：请改用换班"),
                    ));
                }
                exchange((requester, date), (peer, date));
            }
            Self::Claim {
                claimant,
                date,
                shift_id,
            } => {
                if works((claimant, date)) {
                    return Err(refuse(
                        "date",
                        format!("你 {date} 已有班次，不能再认领一个"),
                    ));
                }
                after.insert((claimant, date), Some(shift_id));
            }
        }
        Ok(after)
    }
}

/// The cells whose content differs between `expected` and `current` (an empty cell and a
/// missing one are the same).
pub fn changed_cells(expected: &Cells, current: &Cells) -> Vec<CellKey> {
    expected
        .iter()
        .filter(|(key, shift)| current.get(key).copied().flatten() != **shift)
        .map(|(key, _)| *key)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EARLY: i32 = 1;
    const LATE: i32 = 2;
    const REST: i32 = 3;
    const NIGHT: i32 = 4;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    fn working(shift: i32) -> bool {
        shift != REST
    }

    fn cells(entries: &[(i32, u32, Option<i32>)]) -> Cells {
        entries
            .iter()
            .map(|&(user, d, shift)| ((user, day(d)), shift))
            .collect()
    }

    #[test]
    fn a_same_day_swap_exchanges_the_two_shifts() {
        let swap = Handover::Swap {
            requester: 1,
            date: day(8),
            peer: 2,
            peer_date: day(8),
        };
        assert_eq!(swap.cells(), vec![(1, day(8)), (2, day(8))]);
        let before = cells(&[(1, 8, Some(EARLY)), (2, 8, Some(LATE))]);
        let after = swap.apply(&before, working).unwrap();
        assert_eq!(after, cells(&[(1, 8, Some(LATE)), (2, 8, Some(EARLY))]));
        assert_eq!(swap.dates(), vec![day(8)]);
    }

    #[test]
    fn a_two_day_swap_moves_each_shift_and_what_was_on_the_other_day() {
        let swap = Handover::Swap {
            requester: 1,
            date: day(8),
            peer: 2,
            peer_date: day(9),
        };
        // The requester rests on the 9th (a rest shift), the colleague has nothing on the 8th.
        let before = cells(&[(1, 8, Some(EARLY)), (1, 9, Some(REST)), (2, 9, Some(NIGHT))]);
        let after = swap.apply(&before, working).unwrap();
        assert_eq!(
            after,
            cells(&[
                (1, 8, None),
                (2, 8, Some(EARLY)),
                (1, 9, Some(NIGHT)),
                (2, 9, Some(REST)),
            ])
        );
        assert_eq!(swap.dates(), vec![day(8), day(9)]);
    }

    #[test]
    fn a_swap_needs_a_shift_on_each_side_and_a_free_day_to_receive() {
        let swap = |peer_date| Handover::Swap {
            requester: 1,
            date: day(8),
            peer: 2,
            peer_date: day(peer_date),
        };
        let refused =
            |handover: Handover, before: Cells| handover.apply(&before, working).unwrap_err().field;
        assert_eq!(refused(swap(8), cells(&[(2, 8, Some(LATE))])), "date");
        assert_eq!(
            refused(swap(8), cells(&[(1, 8, Some(EARLY)), (2, 8, Some(REST))])),
            "peer_date"
        );
        assert_eq!(
            refused(swap(8), cells(&[(1, 8, Some(EARLY)), (2, 8, Some(EARLY))])),
            "peer_id"
        );
        assert_eq!(
            refused(
                swap(9),
                cells(&[(1, 8, Some(EARLY)), (2, 8, Some(LATE)), (2, 9, Some(LATE))])
            ),
            "peer_id"
        );
        assert_eq!(
            refused(
                swap(9),
                cells(&[(1, 8, Some(EARLY)), (1, 9, Some(EARLY)), (2, 9, Some(LATE))])
            ),
            "peer_date"
        );
        let with_self = Handover::Swap {
            requester: 1,
            date: day(8),
            peer: 1,
            peer_date: day(9),
        };
        assert_eq!(refused(with_self, cells(&[])), "peer_id");
    }

    #[test]
    fn a_cover_gives_the_shift_to_a_free_colleague() {
        let cover = Handover::Cover {
            requester: 1,
            date: day(8),
            peer: 2,
        };
        let after = cover
            .apply(&cells(&[(1, 8, Some(NIGHT)), (2, 8, Some(REST))]), working)
            .unwrap();
        assert_eq!(after, cells(&[(1, 8, Some(REST)), (2, 8, Some(NIGHT))]));
        let busy = cover.apply(&cells(&[(1, 8, Some(NIGHT)), (2, 8, Some(EARLY))]), working);
        assert_eq!(busy.unwrap_err().field, "peer_id");
        let nothing = cover.apply(&cells(&[(1, 8, Some(REST))]), working);
        assert_eq!(nothing.unwrap_err().field, "date");
    }

    #[test]
    fn a_claim_fills_a_free_cell_only() {
        let claim = Handover::Claim {
            claimant: 5,
            date: day(8),
            shift_id: LATE,
        };
        assert_eq!(
            claim.apply(&cells(&[]), working).unwrap(),
            cells(&[(5, 8, Some(LATE))])
        );
        assert_eq!(
            claim.apply(&cells(&[(5, 8, Some(REST))]), working).unwrap(),
            cells(&[(5, 8, Some(LATE))])
        );
        let busy = claim.apply(&cells(&[(5, 8, Some(EARLY))]), working);
        assert_eq!(busy.unwrap_err().field, "date");
    }

    #[test]
    fn changed_cells_treat_missing_as_empty() {
        let expected = cells(&[(1, 8, Some(EARLY)), (2, 8, None)]);
        assert!(changed_cells(&expected, &cells(&[(1, 8, Some(EARLY))])).is_empty());
        assert_eq!(
            changed_cells(&expected, &cells(&[(1, 8, Some(LATE)), (2, 8, Some(REST))])),
            vec![(1, day(8)), (2, day(8))]
        );
    }
}
