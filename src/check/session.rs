//! Session guarantees (Terry et al., "Session Guarantees for Weakly Consistent Replicated
//! Data", PDIS 1994), checked over one client's operations on one key at a time.
//!
//! Each operation carries the version it read or wrote, in the store's own order of versions
//! (last-write-wins stamps, say; a partial order works too, as version vectors need). In a
//! client's session, in the order the client issued its operations:
//!
//! - **read your writes**: a read returns the client's earlier writes or something newer;
//! - **monotonic reads**: a read returns what the client read before or something newer;
//! - **monotonic writes**: a write is ordered after the client's earlier writes;
//! - **writes follow reads**: a write is ordered after what the client read before.
//!
//! The same functions serve a lab, which checks each operation as it completes, and a checker
//! of recorded histories.

/// One of the four guarantees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guarantee {
    ReadYourWrites,
    MonotonicReads,
    MonotonicWrites,
    WritesFollowReads,
}

impl Guarantee {
    pub const ALL: [Guarantee; 4] = [
        Guarantee::ReadYourWrites,
        Guarantee::MonotonicReads,
        Guarantee::MonotonicWrites,
        Guarantee::WritesFollowReads,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Guarantee::ReadYourWrites => "read your writes",
            Guarantee::MonotonicReads => "monotonic reads",
            Guarantee::MonotonicWrites => "monotonic writes",
            Guarantee::WritesFollowReads => "writes follow reads",
        }
    }

    /// The name in JSON: `read_your_writes`, ...
    pub fn key(self) -> &'static str {
        match self {
            Guarantee::ReadYourWrites => "read_your_writes",
            Guarantee::MonotonicReads => "monotonic_reads",
            Guarantee::MonotonicWrites => "monotonic_writes",
            Guarantee::WritesFollowReads => "writes_follow_reads",
        }
    }

    /// Which kind of operation the guarantee constrains, and which earlier kind it looks at.
    pub(crate) fn kinds(self) -> (bool, bool) {
        // (later is a write, earlier is a write)
        match self {
            Guarantee::ReadYourWrites => (false, true),
            Guarantee::MonotonicReads => (false, false),
            Guarantee::MonotonicWrites => (true, true),
            Guarantee::WritesFollowReads => (true, false),
        }
    }
}

/// One completed operation of a session: whether it wrote, and the version it read or wrote
/// (for a read of nothing, the least version).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionOp<V> {
    pub write: bool,
    pub version: V,
}

/// How a later operation's version must relate to an earlier one's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// The same version or a newer one (a read).
    AtLeast,
    /// A strictly newer version (a write).
    After,
}

/// What `g` asks of a later operation of a session after an earlier one, by whether each
/// writes: nothing (`None`), or an [`Order`]. This is the one definition of each guarantee;
/// [`keeps`], [`Session`] and the checker's history-wide test all read it.
pub fn requires(g: Guarantee, earlier_write: bool, later_write: bool) -> Option<Order> {
    let (later_writes, earlier_writes) = g.kinds();
    let applies = later_write == later_writes && earlier_write == earlier_writes;
    applies.then_some(if later_write {
        Order::After
    } else {
        Order::AtLeast
    })
}

/// Whether `version` stands in `order` to `earlier`.
pub fn satisfies<V: PartialOrd>(order: Order, version: &V, earlier: &V) -> bool {
    match order {
        Order::AtLeast => version >= earlier,
        Order::After => version > earlier,
    }
}

/// Whether `later` keeps guarantee `g` after `earlier` (both of one client, on one key, with
/// `earlier` issued first). A read must return `earlier`'s version or a newer one; a write
/// must be ordered strictly after it.
pub fn keeps<V: PartialOrd>(g: Guarantee, earlier: &SessionOp<V>, later: &SessionOp<V>) -> bool {
    requires(g, earlier.write, later.write)
        .is_none_or(|order| satisfies(order, &later.version, &earlier.version))
}

/// The first earlier operation (an index into `earlier`) whose guarantee `g` the newest
/// operation `latest` breaks.
pub fn first_broken<V: PartialOrd>(
    g: Guarantee,
    earlier: &[SessionOp<V>],
    latest: &SessionOp<V>,
) -> Option<usize> {
    earlier.iter().position(|e| !keeps(g, e, latest))
}

/// The first place a whole session breaks `g`: (earlier, later) indices.
pub fn first_violation<V: PartialOrd>(
    g: Guarantee,
    session: &[SessionOp<V>],
) -> Option<(usize, usize)> {
    (1..session.len()).find_map(|j| first_broken(g, &session[..j], &session[j]).map(|i| (i, j)))
}

/// One session's running summary: the join of the versions it wrote and of those it read, so
/// each new operation is judged in constant time against all the earlier ones. For a total
/// order and for version vectors, "at least every earlier version" is "at least their join";
/// a write must also differ from the join, which stands for "strictly after" (a new write's
/// version is never one the session saw before).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session<V> {
    pub wrote: Option<V>,
    pub read: Option<V>,
}

impl<V> Default for Session<V> {
    fn default() -> Self {
        Session {
            wrote: None,
            read: None,
        }
    }
}

impl<V: PartialOrd + Copy> Session<V> {
    /// Which guarantees `op` breaks (in [`Guarantee::ALL`]'s order), then takes it in.
    pub fn observe(&mut self, op: SessionOp<V>, join: impl Fn(V, V) -> V) -> [bool; 4] {
        let broken = Guarantee::ALL.map(|g| {
            let (_, earlier_write) = g.kinds();
            let joined = if earlier_write { self.wrote } else { self.read };
            let order = requires(g, earlier_write, op.write);
            match (order, joined) {
                (Some(order), Some(joined)) => !satisfies(order, &op.version, &joined),
                _ => false,
            }
        });
        let slot = if op.write {
            &mut self.wrote
        } else {
            &mut self.read
        };
        *slot = Some(slot.map_or(op.version, |j| join(j, op.version)));
        broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(v: u32) -> SessionOp<u32> {
        SessionOp {
            write: false,
            version: v,
        }
    }
    fn w(v: u32) -> SessionOp<u32> {
        SessionOp {
            write: true,
            version: v,
        }
    }

    #[test]
    fn each_guarantee_catches_the_session_that_breaks_it() {
        use Guarantee::*;
        let cases = [
            (ReadYourWrites, vec![w(5), r(3)], vec![w(5), r(5), r(7)]),
            (MonotonicReads, vec![r(5), r(3)], vec![r(3), r(5), r(5)]),
            (MonotonicWrites, vec![w(5), w(3)], vec![w(3), w(5)]),
            (WritesFollowReads, vec![r(5), w(4)], vec![r(5), w(6)]),
        ];
        for (g, broken, kept) in cases {
            assert_eq!(first_violation(g, &broken), Some((0, 1)), "{}", g.name());
            assert_eq!(first_violation(g, &kept), None, "{}", g.name());
        }
    }

    #[test]
    fn the_running_summary_judges_as_the_pairwise_check_does() {
        let sessions = [
            vec![w(5), r(3)],
            vec![r(5), r(3)],
            vec![w(5), w(3)],
            vec![r(5), w(4)],
            vec![w(3), r(5), w(6), r(6), r(7), w(8)],
            vec![r(2), w(1), r(1), w(9)],
        ];
        for s in sessions {
            let mut run = Session::default();
            for (j, op) in s.iter().enumerate() {
                let got = run.observe(*op, |a: u32, b| a.max(b));
                for (g, broke) in Guarantee::ALL.into_iter().zip(got) {
                    let pairwise = first_broken(g, &s[..j], op).is_some();
                    assert_eq!(broke, pairwise, "{} at {j} of {s:?}", g.name());
                }
            }
        }
    }

    #[test]
    fn a_guarantee_ignores_the_operations_it_does_not_constrain() {
        // An old read after a write breaks read-your-writes only.
        let s = [w(5), r(3)];
        let broken: Vec<_> = Guarantee::ALL
            .into_iter()
            .filter(|g| first_violation(*g, &s).is_some())
            .collect();
        assert_eq!(broken, vec![Guarantee::ReadYourWrites]);
    }

    #[test]
    fn concurrent_versions_of_a_partial_order_break_the_guarantee() {
        // Version vectors: neither (1,0) nor (0,1) is newer than the other.
        #[derive(PartialEq, Debug)]
        struct Vv(u32, u32);
        impl PartialOrd for Vv {
            fn partial_cmp(&self, o: &Vv) -> Option<std::cmp::Ordering> {
                use std::cmp::Ordering::*;
                match (self.0.cmp(&o.0), self.1.cmp(&o.1)) {
                    (a, b) if a == b => Some(a),
                    (Equal, b) => Some(b),
                    (a, Equal) => Some(a),
                    _ => None,
                }
            }
        }
        let s = [
            SessionOp {
                write: false,
                version: Vv(1, 0),
            },
            SessionOp {
                write: false,
                version: Vv(0, 1),
            },
        ];
        assert_eq!(first_violation(Guarantee::MonotonicReads, &s), Some((0, 1)));
    }
}
