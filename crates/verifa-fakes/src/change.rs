//! A [`SessionChange`] applied to the world: [`check_change`] is the part that may refuse it,
//! [`apply_change`] the part that writes, so a refused change writes nothing. Both the session
//! store and the run store commit through here, as both commit a session change. A change that
//! sends its session to review opens its case here too (one active case per session).

use crate::state::World;
use verifa_domain::case::Case;
use verifa_domain::run::WorkflowRun;
use verifa_domain::session::Session;
use verifa_ports::RepoError;
use verifa_ports::sessions::{
    CaseOpening, CaseUpdate, CaseWrite, NewCaseEvent, NewEvent, ResultWrite, RunWrite,
    SessionChange,
};

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
    match &change.case {
        None => {}
        Some(CaseWrite::Open(opening)) => check_opening(w, opening)?,
        Some(CaseWrite::Update(update)) => check_case_revision(w, &update.case)?,
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
        let (created_at, case_id, case_status) =
            (stored.created_at, stored.case_id.take(), stored.case_status);
        *stored = s.clone();
        // Like the database: a session write leaves the link that the case store keeps.
        stored.created_at = created_at;
        stored.case_id = case_id;
        stored.case_status = case_status;
    }
    append_events(w, s, &change.events);
    match &change.result {
        ResultWrite::Keep => {}
        ResultWrite::Clear => {
            w.results.remove(&s.id);
            w.result_lookups.remove(&s.id);
        }
        ResultWrite::Put(r) => {
            let mut record = (**r).clone();
            if let Some(lookups) = record.lookups.take() {
                w.result_lookups.insert(s.id.clone(), lookups);
            }
            w.results.insert(s.id.clone(), record);
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
    match &change.case {
        None => {}
        Some(CaseWrite::Open(opening)) => open_case(w, opening),
        Some(CaseWrite::Update(update)) => update_case(w, s, update),
    }
    crate::audit::append(w, &change.audit);
}

pub(crate) fn append_events(w: &mut World, session: &Session, events: &[NewEvent]) {
    for e in events {
        w.push_event(
            &session.tenant,
            &session.id,
            (&e.id, e.event.event_type(), e.event.payload(session)),
            session.updated_at,
        );
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

/// Refuses an opening for a session that has an active case.
fn check_opening(w: &World, opening: &CaseOpening) -> Result<(), RepoError> {
    let c = &opening.case;
    let taken = w
        .cases
        .values()
        .any(|o| o.tenant == c.tenant && o.session_id == c.session_id && o.status.is_active());
    if taken || w.cases.contains_key(&c.id) {
        return Err(RepoError::Conflict("the session has an active case".into()));
    }
    Ok(())
}

/// Writes a case opening that [`check_opening`] accepted.
fn open_case(w: &mut World, opening: &CaseOpening) {
    let c = &opening.case;
    w.cases.insert(c.id.clone(), c.clone());
    link_session(w, c);
    append_case_events(w, c, std::slice::from_ref(&opening.event));
    crate::audit::append(w, std::slice::from_ref(&opening.audit));
}

/// Refuses a case update when the stored case is another revision (or missing).
pub(crate) fn check_case_revision(w: &World, c: &Case) -> Result<(), RepoError> {
    match w.cases.get(&c.id) {
        Some(s) if s.tenant == c.tenant && s.revision == c.revision => Ok(()),
        Some(s) if s.tenant == c.tenant => Err(RepoError::Conflict(
            "the row changed since it was read".into(),
        )),
        _ => Err(RepoError::NotFound),
    }
}

/// Writes a case update that [`check_case_revision`] accepted, with the identity the session
/// change fed (if any).
fn update_case(w: &mut World, session: &Session, update: &CaseUpdate) {
    let mut stored = update.case.clone();
    let fed = w
        .sessions
        .get(&session.id)
        .and_then(|s| s.identity_id.clone());
    stored.identity_id = fed.or(stored.identity_id);
    stored.revision = stored.revision.saturating_add(1);
    link_session(w, &stored);
    append_case_events(w, &stored, &update.events);
    crate::audit::append(w, &update.audit);
    w.cases.insert(stored.id.clone(), stored);
}

/// Points the case's session at the case and its status.
pub(crate) fn link_session(w: &mut World, c: &Case) {
    if let Some(s) = w
        .sessions
        .get_mut(&c.session_id)
        .filter(|s| s.tenant == c.tenant)
    {
        s.case_id = Some(c.id.clone());
        s.case_status = Some(c.status);
    }
}

pub(crate) fn append_case_events(w: &mut World, c: &Case, events: &[NewCaseEvent]) {
    for e in events {
        w.push_event(
            &c.tenant,
            &c.session_id,
            (&e.id, e.event.event_type(), e.event.payload(c)),
            c.updated_at,
        );
    }
}
