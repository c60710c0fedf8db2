//! Raft, as in Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm"
//! (extended version), Figure 2, with PreVote and CheckQuorum from Ongaro's thesis (9.6, 6.2).
//!
//! Every server is a follower, a candidate or a leader, and time is divided into terms, each
//! beginning with an election. A follower that hears nothing from a leader for an election
//! timeout (a random delay in a range, so that servers rarely time out together) becomes a
//! candidate: it increments its term, votes for itself and asks the others for votes
//! (RequestVote). A server grants at most one vote per term, first come first served, and only
//! to a candidate whose log is at least as up-to-date as its own (last term, then length:
//! section 5.4.1). A candidate with votes from a majority becomes leader.
//!
//! The leader accepts client commands, appends them to its log and replicates them with
//! AppendEntries, which carries the index and term of the entry before the new ones: a follower
//! accepts only if its log has that entry (the consistency check), and deletes any conflicting
//! suffix before appending. An entry is committed once the leader has stored it on a majority,
//! but the leader counts replicas only for entries of its *current* term (section 5.4.2,
//! Figure 8); earlier entries become committed indirectly. Committed entries are applied in
//! order to the state machine (a key-value map, `kv.rs`); the leader then answers the client.
//! Empty AppendEntries are heartbeats, which keep followers from starting elections.
//!
//! Any message carrying a higher term makes the receiver adopt that term and become a
//! follower; messages from older terms are refused or ignored. `currentTerm`, `votedFor` and
//! the log are durable: they survive a crash ([`Protocol::recover`]); everything else is rebuilt.
//!
//! Two optional extensions (off by default):
//! - **PreVote**: before incrementing its term a server asks whether it *could* win; peers say
//!   yes only if its log is up-to-date and they have not heard from a leader within the minimum
//!   election timeout. A server cut off from the majority therefore never inflates its term and
//!   cannot disrupt the cluster when it comes back.
//! - **CheckQuorum**: a leader that has not heard from a majority within an election timeout
//!   steps down, so a leader cut off in a minority stops accepting requests.
//!
//! Ghost data (never read by the protocol, used only by the property checks): the terms a node
//! won, the highest commit it knew and the chain values of the entries it applied. They are
//! kept in the state (states must be `Eq`, so they take part in comparisons) and survive a
//! restart; `Log` keeps a chain hash per entry for the same purpose.

use super::kv::{Applied, Cmd, Kv, KvOp, Origin};
use super::log::{Chunked, Entry, Index, Log, Term};
use crate::sim::process::{ClientRequest, Ctx, MessageInfo, NodeId, Out, Protocol, ReplyClass};
use crate::sim::rng::Rng;
use crate::sim::small_map::SmallSet;
use crate::sim::time::Duration;

/// Deliberate mistakes, so tests can show that each property catches a broken Raft, and a
/// learner can hunt for the run that shows one (the lab's `variant` parameter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// Grants votes without the up-to-date-log check (breaks Leader Completeness).
    VoteWithoutLogCheck,
    /// Commits any entry stored on a majority, whatever its term (Figure 8).
    CommitOldTermByCount,
    /// Forgets `votedFor` when deciding: votes for every candidate of the term (two leaders).
    VoteTwiceInTerm,
    /// Appends without comparing `prevLogTerm` (breaks Log Matching).
    AppendWithoutConsistencyCheck,
    /// Uses the minimum election timeout every time (no randomness: endless split votes).
    FixedElectionTimeout,
}

/// Configuration: the same for every node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Raft {
    pub election_timeout_min_us: u64,
    pub election_timeout_max_us: u64,
    pub heartbeat_us: u64,
    pub prevote: bool,
    pub check_quorum: bool,
    /// The most entries one AppendEntries carries.
    pub max_entries_per_append: usize,
    pub bug: Option<Bug>,
}

impl Default for Raft {
    fn default() -> Self {
        Raft {
            election_timeout_min_us: 150_000,
            election_timeout_max_us: 300_000,
            heartbeat_us: 50_000,
            prevote: false,
            check_quorum: false,
            max_entries_per_append: 16,
            bug: None,
        }
    }
}

/// Messages between servers. Every field is plain data so messages hash and compare.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RaftMsg {
    RequestVote {
        term: Term,
        last_log_index: Index,
        last_log_term: Term,
    },
    Vote {
        term: Term,
        granted: bool,
    },
    /// PreVote: "would you vote for me in `term`?" (the term it would campaign in). The
    /// receiver does not adopt that term.
    PreVoteRequest {
        term: Term,
        last_log_index: Index,
        last_log_term: Term,
    },
    /// `term` is the requested term if granted, else the receiver's current term.
    PreVote {
        term: Term,
        granted: bool,
    },
    AppendEntries {
        term: Term,
        prev_log_index: Index,
        prev_log_term: Term,
        entries: Vec<Entry>,
        leader_commit: Index,
    },
    /// On success `match_index` is the last index known to match the leader; on failure it is
    /// a hint: the follower's log ends there or disagrees after it.
    AppendReply {
        term: Term,
        success: bool,
        match_index: Index,
    },
}

impl MessageInfo for RaftMsg {
    fn kind(&self) -> &'static str {
        match self {
            RaftMsg::RequestVote { .. } => "vote request",
            RaftMsg::Vote { .. } => "vote",
            RaftMsg::PreVoteRequest { .. } => "pre-vote request",
            RaftMsg::PreVote { .. } => "pre-vote",
            RaftMsg::AppendEntries { entries, .. } if entries.is_empty() => "heartbeat",
            RaftMsg::AppendEntries { .. } => "append",
            RaftMsg::AppendReply { .. } => "append reply",
        }
    }

    fn size_bytes(&self) -> u32 {
        match self {
            RaftMsg::AppendEntries { entries, .. } => 48 + 32 * entries.len() as u32,
            _ => 40,
        }
    }

    fn summary(&self) -> String {
        match self {
            RaftMsg::RequestVote { term, last_log_index, last_log_term }
            | RaftMsg::PreVoteRequest { term, last_log_index, last_log_term } => {
                format!("term {term}, lastLogIndex {last_log_index}, lastLogTerm {last_log_term}")
            }
            RaftMsg::Vote { term, granted } | RaftMsg::PreVote { term, granted } => {
                format!("term {term}, {}", if *granted { "granted" } else { "refused" })
            }
            RaftMsg::AppendEntries { term, prev_log_index, prev_log_term, entries, leader_commit } => format!(
                "term {term}, prevLogIndex {prev_log_index}, prevLogTerm {prev_log_term}, {} entries, leaderCommit {leader_commit}",
                entries.len()
            ),
            RaftMsg::AppendReply { term, success, match_index } => format!(
                "term {term}, {}, matchIndex {match_index}",
                if *success { "success" } else { "failure" }
            ),
        }
    }
}

impl RaftMsg {
    pub fn term(&self) -> Term {
        match self {
            RaftMsg::RequestVote { term, .. }
            | RaftMsg::Vote { term, .. }
            | RaftMsg::PreVoteRequest { term, .. }
            | RaftMsg::PreVote { term, .. }
            | RaftMsg::AppendEntries { term, .. }
            | RaftMsg::AppendReply { term, .. } => *term,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// Followers and candidates: start an election when it fires.
    Election,
    /// Leaders: send AppendEntries (heartbeats) to every follower.
    Heartbeat,
    /// Leaders with CheckQuorum: step down unless a majority was heard from.
    CheckQuorum,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Follower,
    /// PreVote's first phase: asking whether an election could succeed.
    PreCandidate,
    Candidate,
    Leader,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Follower => "follower",
            Role::PreCandidate => "pre-candidate",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
        }
    }
}

/// A node's answer to a client.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RaftReply {
    /// Committed and applied at `index`; a `get` carries the value read (`None`: missing key).
    Done { index: Index, value: Option<String> },
    /// Not the leader; try `leader` if known.
    NotLeader { leader: Option<NodeId> },
}

/// Ghost bookkeeping for the properties; see the module documentation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ghost {
    /// Terms this node won, ascending; only the latest [`WON_TERMS_KEPT`] are kept.
    pub won_terms: Vec<Term>,
    /// The highest commit index this node ever knew, its chain value, and the node's term
    /// when it learned it (the entry was committed in that term or earlier).
    pub known_commit: (Index, u64, Term),
    /// Chain value of each entry applied, by index (kept across restarts).
    pub applied_chains: Chunked<u64>,
    /// Set if this node ever applied two different commands at one index.
    pub apply_conflict: bool,
}

/// How many won terms the ghost keeps per node (enough: a second leader of a term appears
/// long before a node wins this many more terms).
pub const WON_TERMS_KEPT: usize = 64;

/// One server's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaftState {
    // Durable (Figure 2: "persistent state on all servers").
    pub current_term: Term,
    pub voted_for: Option<NodeId>,
    pub log: Log,
    // Volatile.
    pub role: Role,
    /// The leader of the current term, if known (the redirect hint).
    pub leader: Option<NodeId>,
    pub commit_index: Index,
    pub last_applied: Index,
    pub kv: Kv,
    /// Votes (or pre-votes) granted to this node in the current election.
    pub votes: SmallSet<NodeId>,
    /// Leaders: for each server, the next log index to send and the highest known to match.
    pub next_index: Vec<Index>,
    pub match_index: Vec<Index>,
    /// Leaders with CheckQuorum: followers heard from since the last check.
    pub heard_from: SmallSet<NodeId>,
    /// When this node last heard from a leader of its term (PreVote's "leader is alive").
    pub leader_contact_us: Option<u64>,
    pub ghost: Ghost,
}

impl RaftState {
    pub fn new(n: u32) -> Self {
        RaftState {
            current_term: 0,
            voted_for: None,
            log: Log::new(),
            role: Role::Follower,
            leader: None,
            commit_index: 0,
            last_applied: 0,
            kv: Kv::default(),
            votes: SmallSet::new(),
            next_index: vec![1; n as usize],
            match_index: vec![0; n as usize],
            heard_from: SmallSet::new(),
            leader_contact_us: None,
            ghost: Ghost::default(),
        }
    }
}

impl Raft {
    fn timeout_range(&self) -> (Duration, Duration) {
        let min = Duration(self.election_timeout_min_us);
        match self.bug {
            Some(Bug::FixedElectionTimeout) => (min, min),
            _ => (
                min,
                Duration(
                    self.election_timeout_max_us
                        .max(self.election_timeout_min_us),
                ),
            ),
        }
    }

    fn reset_election_timer(&self, out: &mut Out<Self>) {
        let (min, max) = self.timeout_range();
        out.set_timer(Timer::Election, min, max);
    }

    /// Adopts a newer term: clears the vote and returns to follower (section 5.1).
    fn step_down(&self, st: &mut RaftState, term: Term, out: &mut Out<Self>) {
        let was = st.role;
        if term > st.current_term {
            st.current_term = term;
            st.voted_for = None;
            st.leader = None;
        }
        st.role = Role::Follower;
        st.votes.clear();
        if was == Role::Leader {
            out.cancel_timer(Timer::Heartbeat);
            out.cancel_timer(Timer::CheckQuorum);
            self.reset_election_timer(out);
            out.note(format!("stepped down in term {}", st.current_term));
        }
    }

    fn start_pre_vote(&self, st: &mut RaftState, ctx: &Ctx, out: &mut Out<Self>) {
        st.role = Role::PreCandidate;
        st.leader = None;
        st.votes = SmallSet::from([ctx.id]);
        self.reset_election_timer(out);
        let term = st.current_term + 1;
        out.note(format!("pre-vote for term {term}"));
        if st.votes.len() >= ctx.majority() {
            return self.start_election(st, ctx, out);
        }
        let (last_log_index, last_log_term) = (st.log.last_index(), st.log.last_term());
        out.broadcast(
            ctx,
            RaftMsg::PreVoteRequest {
                term,
                last_log_index,
                last_log_term,
            },
        );
    }

    fn start_election(&self, st: &mut RaftState, ctx: &Ctx, out: &mut Out<Self>) {
        st.current_term += 1;
        st.voted_for = Some(ctx.id);
        st.role = Role::Candidate;
        st.leader = None;
        st.votes = SmallSet::from([ctx.id]);
        self.reset_election_timer(out);
        out.note(format!("election for term {}", st.current_term));
        if st.votes.len() >= ctx.majority() {
            return self.become_leader(st, ctx, out);
        }
        let (last_log_index, last_log_term) = (st.log.last_index(), st.log.last_term());
        out.broadcast(
            ctx,
            RaftMsg::RequestVote {
                term: st.current_term,
                last_log_index,
                last_log_term,
            },
        );
    }

    fn become_leader(&self, st: &mut RaftState, ctx: &Ctx, out: &mut Out<Self>) {
        st.role = Role::Leader;
        st.leader = Some(ctx.id);
        st.votes.clear();
        let n = ctx.n as usize;
        st.next_index = vec![st.log.last_index() + 1; n];
        st.match_index = vec![0; n];
        st.match_index[ctx.id as usize] = st.log.last_index();
        st.heard_from.clear();
        let g = &mut st.ghost.won_terms;
        g.push(st.current_term);
        if g.len() > WON_TERMS_KEPT {
            g.remove(0);
        }
        out.cancel_timer(Timer::Election);
        out.note(format!("became leader in term {}", st.current_term));
        self.heartbeat(st, ctx, out);
        self.arm_check_quorum(out);
    }

    /// AppendEntries to every follower (empty ones are heartbeats), and the next heartbeat armed.
    fn heartbeat(&self, st: &RaftState, ctx: &Ctx, out: &mut Out<Self>) {
        for p in ctx.peers() {
            self.send_append(st, p, out);
        }
        out.set_timer(
            Timer::Heartbeat,
            Duration(self.heartbeat_us),
            Duration(self.heartbeat_us),
        );
    }

    /// CheckQuorum looks back over the longest election timeout, so a healthy leader that
    /// heartbeats several times per timeout is never deposed by it.
    fn arm_check_quorum(&self, out: &mut Out<Self>) {
        if self.check_quorum {
            let t = Duration(self.election_timeout_max_us);
            out.set_timer(Timer::CheckQuorum, t, t);
        }
    }

    /// AppendEntries to `to` with the entries from its `next_index` (none: a heartbeat).
    fn send_append(&self, st: &RaftState, to: NodeId, out: &mut Out<Self>) {
        let next = st.next_index[to as usize].clamp(1, st.log.last_index() + 1);
        let prev_log_index = next - 1;
        let prev_log_term = st.log.term_at(prev_log_index).unwrap_or(0);
        let entries = st.log.slice_from(next, self.max_entries_per_append);
        out.send(
            to,
            RaftMsg::AppendEntries {
                term: st.current_term,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit: st.commit_index,
            },
        );
    }

    /// Leader: commit the highest index stored on a majority, if it is of the current term
    /// (section 5.4.2: older entries are never committed by counting replicas).
    fn advance_commit(&self, st: &mut RaftState, ctx: &Ctx, out: &mut Out<Self>) {
        let mut matches = st.match_index.clone();
        matches[ctx.id as usize] = st.log.last_index();
        crate::sim::order::sort_by(&mut matches, |a, b| b.cmp(a));
        let n = matches[ctx.majority() - 1];
        let current = st.log.term_at(n) == Some(st.current_term);
        if n > st.commit_index && (current || self.bug == Some(Bug::CommitOldTermByCount)) {
            st.commit_index = n;
            out.note(format!("committed index {n}"));
            self.apply_committed(st, out);
        }
    }

    /// Applies committed entries in order; the leader answers the clients.
    fn apply_committed(&self, st: &mut RaftState, out: &mut Out<Self>) {
        if st.commit_index > st.ghost.known_commit.0 {
            let chain = st.log.chain_at(st.commit_index).unwrap_or(0);
            st.ghost.known_commit = (st.commit_index, chain, st.current_term);
        }
        while st.last_applied < st.commit_index {
            let index = st.last_applied + 1;
            let Some(entry) = st.log.entry(index) else {
                break;
            };
            let cmd = entry.cmd.clone();
            let chain = st.log.chain_at(index).unwrap_or(0);
            st.last_applied = index;
            let g = &mut st.ghost;
            match g.applied_chains.get(index as usize - 1).copied() {
                Some(c) if c != chain => g.apply_conflict = true,
                Some(_) => {}
                None => g.applied_chains.push(chain),
            }
            let result = st.kv.apply(&cmd);
            let answer = match result {
                Applied::Done(value) | Applied::Retried(value) => Some(value),
                Applied::Duplicate => None,
            };
            if let (Some(value), Some(o), Role::Leader) = (answer, cmd.origin, st.role) {
                let reply = RaftReply::Done { index, value };
                out.effects.push(crate::sim::Effect::Reply {
                    client: o.client,
                    request_id: o.request_id,
                    reply,
                });
            }
        }
    }

    // ----- handlers, one per message (Figure 2, "receiver implementation") -------------------

    fn on_request_vote(
        &self,
        st: &mut RaftState,
        from: NodeId,
        term: Term,
        last: (Index, Term),
        out: &mut Out<Self>,
    ) {
        let (last_log_index, last_log_term) = last;
        let log_ok = st.log.is_up_to_date(last_log_term, last_log_index)
            || self.bug == Some(Bug::VoteWithoutLogCheck);
        let free = st.voted_for.is_none()
            || st.voted_for == Some(from)
            || self.bug == Some(Bug::VoteTwiceInTerm);
        let granted = term == st.current_term && st.role != Role::Leader && free && log_ok;
        if granted {
            st.voted_for = Some(from);
            self.reset_election_timer(out);
            out.note(format!("granted vote to S{from} in term {term}"));
        }
        out.send(
            from,
            RaftMsg::Vote {
                term: st.current_term,
                granted,
            },
        );
    }

    fn on_vote(
        &self,
        st: &mut RaftState,
        ctx: &Ctx,
        from: NodeId,
        term: Term,
        granted: bool,
        out: &mut Out<Self>,
    ) {
        if st.role == Role::Candidate && term == st.current_term && granted {
            st.votes.insert(from);
            if st.votes.len() >= ctx.majority() {
                self.become_leader(st, ctx, out);
            }
        }
    }

    fn on_pre_vote_request(
        &self,
        st: &RaftState,
        ctx: &Ctx,
        from: NodeId,
        term: Term,
        last: (Index, Term),
        out: &mut Out<Self>,
    ) {
        let (last_log_index, last_log_term) = last;
        let leader_alive = st.role == Role::Leader
            || st
                .leader_contact_us
                .is_some_and(|t| ctx.now.0.saturating_sub(t) < self.election_timeout_min_us);
        let granted = term > st.current_term
            && !leader_alive
            && st.log.is_up_to_date(last_log_term, last_log_index);
        let reply_term = if granted { term } else { st.current_term };
        out.send(
            from,
            RaftMsg::PreVote {
                term: reply_term,
                granted,
            },
        );
    }

    fn on_pre_vote(
        &self,
        st: &mut RaftState,
        ctx: &Ctx,
        from: NodeId,
        term: Term,
        granted: bool,
        out: &mut Out<Self>,
    ) {
        if st.role != Role::PreCandidate {
            return;
        }
        if granted && term == st.current_term + 1 {
            st.votes.insert(from);
            if st.votes.len() >= ctx.majority() {
                self.start_election(st, ctx, out);
            }
        } else if !granted && term > st.current_term {
            self.step_down(st, term, out);
        }
    }

    fn on_append_entries(
        &self,
        st: &mut RaftState,
        ctx: &Ctx,
        from: NodeId,
        msg: RaftMsg,
        out: &mut Out<Self>,
    ) {
        let RaftMsg::AppendEntries {
            term,
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit,
        } = msg
        else {
            return;
        };
        let refuse = |st: &RaftState, hint: Index, out: &mut Out<Self>| {
            out.send(
                from,
                RaftMsg::AppendReply {
                    term: st.current_term,
                    success: false,
                    match_index: hint,
                },
            );
        };
        if term < st.current_term || st.role == Role::Leader {
            return refuse(st, 0, out);
        }
        // A candidate that hears from the leader of its term returns to follower.
        if st.role != Role::Follower {
            st.role = Role::Follower;
            st.votes.clear();
        }
        st.leader = Some(from);
        st.leader_contact_us = Some(ctx.now.0);
        self.reset_election_timer(out);
        let skip_check = self.bug == Some(Bug::AppendWithoutConsistencyCheck)
            && prev_log_index <= st.log.last_index();
        if st.log.term_at(prev_log_index) != Some(prev_log_term) && !skip_check {
            let hint = st.log.last_index().min(prev_log_index.saturating_sub(1));
            return refuse(st, hint, out);
        }
        for (k, e) in entries.iter().enumerate() {
            let index = prev_log_index + 1 + k as Index;
            match st.log.term_at(index) {
                Some(t) if t == e.term => continue,
                Some(_) => {
                    st.log.truncate(index - 1);
                    st.log.push(e.clone());
                }
                None => st.log.push(e.clone()),
            }
        }
        let match_index = prev_log_index + entries.len() as Index;
        if leader_commit > st.commit_index {
            let c = leader_commit.min(match_index);
            if c > st.commit_index {
                st.commit_index = c;
                self.apply_committed(st, out);
            }
        }
        out.send(
            from,
            RaftMsg::AppendReply {
                term: st.current_term,
                success: true,
                match_index,
            },
        );
    }

    fn on_append_reply(
        &self,
        st: &mut RaftState,
        ctx: &Ctx,
        from: NodeId,
        success: bool,
        match_index: Index,
        out: &mut Out<Self>,
    ) {
        if st.role != Role::Leader {
            return;
        }
        let f = from as usize;
        st.heard_from.insert(from);
        if success {
            st.match_index[f] = st.match_index[f].max(match_index);
            st.next_index[f] = st.next_index[f].max(match_index + 1);
            self.advance_commit(st, ctx, out);
            if st.next_index[f] <= st.log.last_index() {
                self.send_append(st, from, out);
            }
        } else {
            let before = st.next_index[f];
            let next = before.saturating_sub(1).min(match_index + 1);
            st.next_index[f] = next.max(st.match_index[f] + 1).max(1);
            // Retry at once only when backing up; otherwise the next heartbeat retries, so a
            // refusal that cannot be fixed by backing up never turns into a message storm.
            if st.next_index[f] < before {
                self.send_append(st, from, out);
            }
        }
    }
}

impl Protocol for Raft {
    type Msg = RaftMsg;
    type Timer = Timer;
    type State = RaftState;
    type Op = KvOp;
    type Reply = RaftReply;

    fn init(&self, _id: NodeId, n: u32) -> RaftState {
        RaftState::new(n)
    }

    /// A fresh or restarted server is a follower waiting for a leader. (A state built as a
    /// leader, as the election experiment does, starts leading at once.)
    fn on_start(&self, st: &mut RaftState, ctx: &Ctx, out: &mut Out<Self>) {
        match st.role {
            Role::Leader => {
                self.heartbeat(st, ctx, out);
                self.arm_check_quorum(out);
            }
            _ => self.reset_election_timer(out),
        }
    }

    fn on_message(
        &self,
        st: &mut RaftState,
        ctx: &Ctx,
        from: NodeId,
        msg: RaftMsg,
        out: &mut Out<Self>,
    ) {
        if from >= ctx.n || from == ctx.id {
            return;
        }
        // Section 5.1: a newer term wins. Pre-vote messages name a term nobody is in yet, so
        // they do not count (except a refusal, which reports the refuser's real term).
        let adopts = match &msg {
            RaftMsg::PreVoteRequest { .. } => false,
            RaftMsg::PreVote { granted, .. } => !granted,
            _ => true,
        };
        if adopts && msg.term() > st.current_term {
            self.step_down(st, msg.term(), out);
        }
        match msg {
            RaftMsg::RequestVote {
                term,
                last_log_index,
                last_log_term,
            } => self.on_request_vote(st, from, term, (last_log_index, last_log_term), out),
            RaftMsg::Vote { term, granted } => self.on_vote(st, ctx, from, term, granted, out),
            RaftMsg::PreVoteRequest {
                term,
                last_log_index,
                last_log_term,
            } => {
                self.on_pre_vote_request(st, ctx, from, term, (last_log_index, last_log_term), out)
            }
            RaftMsg::PreVote { term, granted } => {
                self.on_pre_vote(st, ctx, from, term, granted, out)
            }
            m @ RaftMsg::AppendEntries { .. } => self.on_append_entries(st, ctx, from, m, out),
            RaftMsg::AppendReply {
                term,
                success,
                match_index,
            } if term == st.current_term => {
                self.on_append_reply(st, ctx, from, success, match_index, out)
            }
            RaftMsg::AppendReply { .. } => {}
        }
    }

    /// `timeout`: the election timer fires now. `align`: it is set to fire after the shortest
    /// election timeout on every server, so they all stand at once (a split vote); `spread`:
    /// server i's fires after `min + i·(max − min)/(n − 1)`, so one stands well before the
    /// rest. Leaders have no election timer and are left alone.
    fn on_verb(
        &self,
        st: &mut RaftState,
        ctx: &Ctx,
        verb: &str,
        _target: Option<NodeId>,
        out: &mut Out<Self>,
    ) {
        if st.role == Role::Leader {
            return;
        }
        let (min, max) = (self.election_timeout_min_us, self.election_timeout_max_us);
        match verb {
            "timeout" => self.on_timer(st, ctx, Timer::Election, out),
            "align" => out.set_timer(Timer::Election, Duration(min), Duration(min)),
            "spread" => {
                let step = (max - min) / (ctx.n.max(2) as u64 - 1);
                let at = Duration(min + step * ctx.id as u64);
                out.set_timer(Timer::Election, at, at);
            }
            _ => {}
        }
    }

    fn on_timer(&self, st: &mut RaftState, ctx: &Ctx, timer: Timer, out: &mut Out<Self>) {
        match (timer, st.role) {
            (Timer::Election, Role::Leader) => {}
            (Timer::Election, _) if self.prevote => self.start_pre_vote(st, ctx, out),
            (Timer::Election, _) => {
                if st.role == Role::Candidate {
                    out.note(format!(
                        "election for term {} timed out without a majority",
                        st.current_term
                    ));
                }
                self.start_election(st, ctx, out)
            }
            (Timer::Heartbeat, Role::Leader) => self.heartbeat(st, ctx, out),
            (Timer::CheckQuorum, Role::Leader) => {
                if st.heard_from.len() + 1 < ctx.majority() {
                    out.note(format!(
                        "heard from no majority in term {}",
                        st.current_term
                    ));
                    let term = st.current_term;
                    self.step_down(st, term, out);
                } else {
                    st.heard_from.clear();
                    self.arm_check_quorum(out);
                }
            }
            _ => {}
        }
    }

    fn on_client(
        &self,
        st: &mut RaftState,
        ctx: &Ctx,
        req: ClientRequest<KvOp>,
        out: &mut Out<Self>,
    ) {
        if st.role != Role::Leader {
            let hint = st.leader.filter(|l| *l != ctx.id);
            return out.reply(&req, RaftReply::NotLeader { leader: hint });
        }
        let origin = Origin {
            client: req.client,
            request_id: req.request_id,
            key: req.key,
        };
        st.log.push(Entry::new(
            st.current_term,
            Cmd {
                op: req.op,
                origin: Some(origin),
            },
        ));
        st.match_index[ctx.id as usize] = st.log.last_index();
        for p in ctx.peers() {
            // Followers still catching up get their entries from the reply loop instead.
            if st.next_index[p as usize] == st.log.last_index() {
                self.send_append(st, p, out);
            }
        }
        self.advance_commit(st, ctx, out);
    }

    fn recover(&self, _id: NodeId, n: u32, crashed: &RaftState) -> RaftState {
        RaftState {
            current_term: crashed.current_term,
            voted_for: crashed.voted_for,
            log: crashed.log.clone(),
            ghost: crashed.ghost.clone(),
            ..RaftState::new(n)
        }
    }

    fn classify(&self, reply: &RaftReply) -> ReplyClass {
        match reply {
            RaftReply::Done { .. } => ReplyClass::Ok,
            RaftReply::NotLeader { leader } => ReplyClass::Redirect(*leader),
        }
    }

    fn next_op(&self, client: u32, seq: u64, rng: &mut Rng) -> Option<KvOp> {
        Some(super::kv::workload_op(client, seq, rng))
    }

    fn parse_op(&self, text: &str) -> Result<KvOp, String> {
        KvOp::parse(text)
    }

    fn timer_name(&self, timer: &Timer) -> &'static str {
        match timer {
            Timer::Election => "election",
            Timer::Heartbeat => "heartbeat",
            Timer::CheckQuorum => "check quorum",
        }
    }
}
