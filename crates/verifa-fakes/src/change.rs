//! A [`SessionChange`] applied to the world: [`check_change`] is the part that may refuse it,
//! [`apply_change`] the part that writes, so a refused change writes nothing. Both the session
//! store and the run store commit through here, as both commit a session change.

use crate::state::{StoredEvent, World};
use verifa_domain::run::WorkflowRun;
use verifa_domain::session::Session;
use verifa_ports::RepoError;
use verifa_ports::sessions::{NewEvent, ResultWrite, RunWrite, SessionChange};

/// Refuses a change that the store would refuse: a status that moved on, a run whose revision
/// moved on, a run id taken.
pub(crate) fn check_change(w: &World, change: &SessionChange) -> Result<(), RepoError> {
    let s = &change.session;
    match w.sessions.get(&s.id) {
        Some(stored)
            if stored.tenant == s.tenant
                && stored.status == change.expected_status
                && stored.revision == change.expected_revision => {}
        _ => return Err(RepoError::Conflict("session changed".into())),
    }
    crate::audit::check(w, &change.audit)?;
    if let Some(opening) = &change.case {
        crate::cases::check_opening(w, opening)?;
    }
    match &change.run {
        None => Ok(()),
        Some(RunWrite::Start(run)) => match w.runs.get(&run.id) {
            Some(existing) if existing.session_id != s.id => {
                Err(RepoError::Conflict(format!("run {} exists", run.id)))
            }
            _ => Ok(()),
        },
        Some(RunWrite::Update {
            run,
            expected_revision,
        }) => match w.runs.get(&run.id) {
            Some(stored) if stored.revision == *expected_revision => Ok(()),
            _ => Err(RepoError::Conflict("workflow run changed".into())),
        },
    }
}

/// Writes a change that [`check_change`] accepted.
pub(crate) fn apply_change(w: &mut World, change: &SessionChange) {
    let s = &change.session;
    if let Some(stored) = w.sessions.get_mut(&s.id) {
        let created_at = stored.created_at;
        *stored = s.clone();
        stored.created_at = created_at;
    }
    append_events(w, s, &change.events);
    match &change.result {
        ResultWrite::Keep => {}
        ResultWrite::Clear => {
            w.results.remove(&s.id);
        }
        ResultWrite::Put(r) => {
            w.results.insert(s.id.clone(), (**r).clone());
        }
    }
    match &change.run {
        None => {}
        Some(RunWrite::Start(run)) => {
            let old: Vec<String> = w
                .runs
                .values()
                .filter(|r| r.session_id == s.id)
                .map(|r| r.id.clone())
                .collect();
            w.executions.retain(|e| !old.contains(&e.run_id));
            w.runs.retain(|_, r| r.session_id != s.id);
            w.runs.insert(run.id.clone(), (**run).clone());
        }
        Some(RunWrite::Update { run, .. }) => {
            if let Some(stored) = w.runs.get_mut(&run.id) {
                write_state(stored, run);
            }
        }
    }
    if let Some(feed) = &change.identity {
        crate::identities::feed(w, s, feed);
    }
    if let Some(opening) = &change.case {
        crate::cases::open(w, opening);
    }
    crate::audit::append(w, &change.audit);
}

pub(crate) fn append_events(w: &mut World, session: &Session, events: &[NewEvent]) {
    for e in events {
        let seq = w.next_event_seq();
        w.events.push(StoredEvent {
            seq,
            id: e.id.clone(),
            tenant: session.tenant.clone(),
            session_id: session.id.clone(),
            event_type: e.event.event_type().to_owned(),
            data: e.event.payload(session),
            created_at: session.updated_at,
        });
    }
}

/// Copies what a step may change (never the pinned graph nor the identity).
pub(crate) fn write_state(stored: &mut WorkflowRun, run: &WorkflowRun) {
    stored.state = run.state.clone();
    stored.work = run.work.clone();
    stored.due = run.due;
    stored.lease = run.lease.clone();
    stored.revision = run.revision;
    stored.updated_at = run.updated_at;
}
