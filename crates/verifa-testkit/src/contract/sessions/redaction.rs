//! [`SessionRedaction`](verifa_ports::sessions::SessionRedaction): one transaction destroys what
//! the store holds of a session's personal data; condemned blobs stay queued until confirmed.

use super::{Stores, approved_result};
use crate::contract::fixtures::*;
use serde_json::{Value, json};
use verifa_domain::documents::DocumentType;
use verifa_domain::session::{RedactReason, RetentionStatus, Session, SessionEvent, SessionStatus};
use verifa_domain::workflow::{Outcome, RunStatus};
use verifa_ports::RepoError;
use verifa_ports::sessions::SessionChange;

/// The change a redaction writes: no key, no fields, `redacted`.
pub fn redacting(before: &Session, documents_removed: u64) -> SessionChange {
    let mut planned = change(
        before,
        before.status,
        at(40),
        vec![SessionEvent::Redacted {
            reason: RedactReason::Requested,
            documents_removed,
        }],
    );
    let s = &mut planned.session;
    s.data_key = None;
    s.fields_sealed = None;
    s.consent_ip = None;
    s.retention_status = RetentionStatus::Redacted;
    s.redacted_at = Some(at(40));
    planned
}

/// A completed session with two documents, a result with extracted data and lookup hashes, and
/// a run whose state and attempts hold check outputs.
async fn completed_with_data(stores: &Stores, session_id: &str) -> Session {
    let (live, _) = organization(stores, &format!("org_{session_id}")).await;
    let (processing, _) = session_with_run(stores, &live, session_id, t0()).await;
    let claimed = stores
        .runs
        .claim_run("w", t0(), at(60))
        .await
        .unwrap()
        .unwrap();
    let mut done = claimed.clone();
    done.revision += 1;
    done.state.status = RunStatus::Completed;
    done.state.final_status = Some(Outcome::Approved);
    done.state
        .context
        .extracted_data
        .insert("full_name".into(), json!("Anna Eriksson"));
    done.work = None;
    done.due = None;
    done.lease.until = None;
    let mut attempt = attempt(&format!("nex_{session_id}"), 1, at(1));
    attempt.attempt.output = json!({"document_number": "L898902C3"});
    attempt.attempt.error = Some("Anna Eriksson".into());
    done.state.attempts.push(attempt.attempt.clone());
    let mut result = approved_result(session_id, &live);
    result.extracted_data_sealed = Some("sealed-extracted-data".into());
    result.lookups = Some(vec!["ab".repeat(32), "cd".repeat(32)]);
    let mut decide = change(
        &processing,
        SessionStatus::Completed,
        at(30),
        vec![SessionEvent::Decided {
            outcome: Outcome::Approved,
            source: verifa_domain::session::VerdictSource::Simulation,
        }],
    )
    .with_result(result);
    decide.session.data_key = Some("key:wrapped".into());
    decide.session.fields_sealed = Some("sealed-fields".into());
    stores
        .runs
        .commit_run(&done, claimed.revision, &[attempt], Some(&decide))
        .await
        .unwrap();
    let mut current = decide.session;
    for (n, kind) in [DocumentType::IdFront, DocumentType::Selfie]
        .into_iter()
        .enumerate()
    {
        let doc = document(&current, &format!("doc_{session_id}_{n}"), kind, at(31));
        let touch = change(&current, SessionStatus::Completed, at(31), vec![]);
        stores.documents.put_document(&doc, &touch).await.unwrap();
        current = touch.session;
    }
    current
}

/// Documents, extracted data and run outputs go; the run keeps its path and outcome; the
/// session is stored as redacted, with its event.
pub async fn redaction_destroys_the_stored_personal_data(stores: Stores) {
    let session = completed_with_data(&stores, "ses_redact").await;
    let tenant = session.tenant.clone();
    let planned = redacting(&session, 2);
    let queued = stores.redaction.redact(&planned).await.unwrap();
    let mut keys: Vec<&str> = queued.iter().map(|q| q.storage_key.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            format!("{}/ses_redact/doc_ses_redact_0", tenant.org_id),
            format!("{}/ses_redact/doc_ses_redact_1", tenant.org_id)
        ]
    );
    assert!(queued.iter().all(|q| q.tenant == tenant && q.attempts == 0));

    let stored = stores.sessions.get(&tenant, "ses_redact").await.unwrap();
    assert_eq!(stored, planned.session);
    assert_eq!(stored.data_key, None);
    assert!(
        stores
            .documents
            .documents(&tenant, "ses_redact")
            .await
            .unwrap()
            .is_empty()
    );
    let result = stores
        .sessions
        .result(&tenant, "ses_redact")
        .await
        .unwrap()
        .expect("the decision stays");
    assert_eq!(result.extracted_data_sealed, None);
    assert_eq!(result.verdict.outcome, Outcome::Approved);
    let run = stores
        .runs
        .run_for_session(&tenant, "ses_redact")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.final_status(), Some(Outcome::Approved));
    assert!(run.state.context.extracted_data.is_empty());
    assert!(
        run.state
            .attempts
            .iter()
            .all(|a| a.output == Value::Null && a.error.is_none())
    );
    assert_eq!((run.work, run.due), (None, None));
    let executions = stores
        .runs
        .executions(&tenant, "ses_redact", None)
        .await
        .unwrap();
    assert_eq!(executions.len(), 1, "the attempt row stays");
    assert_eq!(executions[0].attempt.output, Value::Null);
    assert_eq!(executions[0].attempt.error, None);
    let last = events_of(&stores, &tenant, "ses_redact")
        .await
        .pop()
        .unwrap();
    assert_eq!(last.event_type, "session.redacted");
    assert_eq!(last.data["documents_removed"], 2);
}

/// A redaction read at a stale revision writes nothing: the documents stay.
pub async fn redaction_is_fenced_like_any_change(stores: Stores) {
    let session = completed_with_data(&stores, "ses_redact_race").await;
    let tenant = session.tenant.clone();
    let mut stale = session.clone();
    stale.revision -= 1;
    let refused = stores.redaction.redact(&redacting(&stale, 2)).await;
    assert!(
        matches!(refused, Err(RepoError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(
        stores
            .documents
            .documents(&tenant, "ses_redact_race")
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        stores
            .sessions
            .result(&tenant, "ses_redact_race")
            .await
            .unwrap()
            .unwrap()
            .extracted_data_sealed
            .is_some()
    );
    assert!(
        stores
            .redaction
            .due_blob_deletions(at(1000), 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing queued"
    );
}

/// Queued deletions are due at once; a refused one waits for its retry time and counts the
/// attempt; a confirmed one leaves the queue.
pub async fn blob_deletions_wait_until_confirmed(stores: Stores) {
    let session = completed_with_data(&stores, "ses_redact_blobs").await;
    let queued = stores
        .redaction
        .redact(&redacting(&session, 2))
        .await
        .unwrap();
    let due = stores
        .redaction
        .due_blob_deletions(at(40), 10)
        .await
        .unwrap();
    assert_eq!(due, queued);
    assert_eq!(
        stores
            .redaction
            .due_blob_deletions(at(39), 10)
            .await
            .unwrap(),
        [],
        "not due before the redaction"
    );
    let (first, second) = (&queued[0], &queued[1]);
    stores.redaction.blob_deleted(first.id).await.unwrap();
    stores
        .redaction
        .blob_deletion_failed(second.id, "store unavailable", at(100))
        .await
        .unwrap();
    assert_eq!(
        stores
            .redaction
            .due_blob_deletions(at(99), 10)
            .await
            .unwrap(),
        []
    );
    let retried = stores
        .redaction
        .due_blob_deletions(at(100), 10)
        .await
        .unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].id, second.id);
    assert_eq!(retried[0].attempts, 1);
    stores.redaction.blob_deleted(second.id).await.unwrap();
    assert_eq!(
        stores
            .redaction
            .due_blob_deletions(at(1000), 10)
            .await
            .unwrap(),
        []
    );
}

/// The retention scan: finished sessions only, counted from when they finished, per pass.
pub async fn retention_due_selects_finished_sessions_per_pass(stores: Stores) {
    use verifa_ports::sessions::RetentionPass::{Full, Sensitive};
    let (live, sandbox) = organization(&stores, "org_retention").await;
    let finished = |id: &str, status: SessionStatus, when: i64| {
        let mut s = session(&live, id, status, t0());
        s.updated_at = at(when);
        match status {
            SessionStatus::Completed => s.completed_at = Some(at(when)),
            SessionStatus::Expired => s.expired_at = Some(at(when)),
            _ => {}
        }
        s
    };
    let mut hidden = finished("ses_ret_hidden", SessionStatus::Completed, 10);
    hidden.retention_status = RetentionStatus::SensitiveRedacted;
    let mut announced = finished("ses_ret_announced", SessionStatus::Completed, 10);
    announced.retention_expired_at = Some(at(50));
    let mut redacted = finished("ses_ret_redacted", SessionStatus::Completed, 10);
    redacted.retention_status = RetentionStatus::Redacted;
    let mut elsewhere = finished("ses_ret_sandbox", SessionStatus::Completed, 10);
    elsewhere.tenant = sandbox.clone();
    let mut late = finished("ses_ret_late", SessionStatus::Completed, 200);
    late.updated_at = at(20);
    for s in [
        finished("ses_ret_completed", SessionStatus::Completed, 12),
        finished("ses_ret_expired", SessionStatus::Expired, 11),
        finished("ses_ret_failed", SessionStatus::Failed, 13),
        finished("ses_ret_review", SessionStatus::UnderReview, 1),
        finished("ses_ret_processing", SessionStatus::Processing, 1),
        finished("ses_ret_pending", SessionStatus::Pending, 1),
        hidden,
        announced,
        redacted,
        elsewhere,
        late,
    ] {
        insert_session(&stores, s).await;
    }
    let ids = |found: Vec<Session>| found.into_iter().map(|s| s.id).collect::<Vec<_>>();
    let due = |pass, before, limit| stores.sessions.retention_due(&live, pass, before, limit);
    assert_eq!(
        ids(due(Sensitive, at(100), 10).await.unwrap()),
        [
            "ses_ret_announced",
            "ses_ret_expired",
            "ses_ret_completed",
            "ses_ret_failed"
        ],
        "active ones, oldest change first"
    );
    assert_eq!(
        ids(due(Full, at(100), 10).await.unwrap()),
        [
            "ses_ret_hidden",
            "ses_ret_expired",
            "ses_ret_completed",
            "ses_ret_failed"
        ],
        "not redacted, not yet announced"
    );
    assert_eq!(
        ids(due(Full, at(12), 10).await.unwrap()),
        ["ses_ret_hidden", "ses_ret_expired"],
        "finished before the cut-off only"
    );
    assert_eq!(due(Full, at(100), 1).await.unwrap().len(), 1, "limit");
    assert_eq!(
        ids(stores
            .sessions
            .retention_due(&sandbox, Full, at(100), 10)
            .await
            .unwrap()),
        ["ses_ret_sandbox"],
        "one tenant at a time"
    );
}

/// Only tenants whose settings set a retention period are listed, with their settings.
pub async fn settings_with_retention_lists_tenants_with_a_period(stores: Stores) {
    use verifa_domain::settings::OrgSettings;
    use verifa_domain::tenancy::{Environment, Tenant};
    let s = stores.settings.as_ref();
    let kept = Tenant::new("org_keep", Environment::Live);
    let full = Tenant::new("org_full", Environment::Live);
    let sensitive = Tenant::new("org_full", Environment::Sandbox);
    s.save(
        &kept,
        &OrgSettings {
            case_sla_hours: 8,
            ..Default::default()
        },
        0,
        at(1),
        &[],
    )
    .await
    .unwrap();
    let with_full = OrgSettings {
        data_retention_days: Some(30),
        auto_redact_on_retention_expiry: true,
        ..Default::default()
    };
    s.save(&full, &with_full, 0, at(1), &[]).await.unwrap();
    let with_sensitive = OrgSettings {
        sensitive_data_retention_days: Some(0),
        ..Default::default()
    };
    s.save(&sensitive, &with_sensitive, 0, at(1), &[])
        .await
        .unwrap();
    let mut found = s.with_retention().await.unwrap();
    found.sort_by(|a, b| {
        (&a.0.org_id, a.0.environment.as_str()).cmp(&(&b.0.org_id, b.0.environment.as_str()))
    });
    assert_eq!(found, [(full, with_full), (sensitive, with_sensitive)]);
}

/// The rotation's reads: keys not under a master key id, by session id, across tenants;
/// the replacement is a compare-and-set on the wrapped key.
pub async fn data_keys_are_listed_and_replaced_by_compare_and_set(stores: Stores) {
    let (live, sandbox) = organization(&stores, "org_keys").await;
    for (tenant, id, key) in [
        (&live, "ses_key_a", Some("old:a")),
        (&sandbox, "ses_key_b", Some("old:b")),
        (&live, "ses_key_c", Some("new:c")),
        (&live, "ses_key_d", None),
    ] {
        let mut s = session(tenant, id, SessionStatus::Pending, t0());
        s.data_key = key.map(str::to_owned);
        insert_session(&stores, s).await;
    }
    let ids = |found: Vec<verifa_ports::sessions::WrappedKey>| {
        found
            .into_iter()
            .map(|k| (k.session_id, k.wrapped))
            .collect::<Vec<_>>()
    };
    let keys = stores.data_keys.as_ref();
    assert_eq!(
        ids(keys.data_keys_not_under("new", None, 10).await.unwrap()),
        [
            ("ses_key_a".to_owned(), "old:a".to_owned()),
            ("ses_key_b".to_owned(), "old:b".to_owned())
        ]
    );
    assert_eq!(
        ids(keys
            .data_keys_not_under("new", Some("ses_key_a"), 10)
            .await
            .unwrap()),
        [("ses_key_b".to_owned(), "old:b".to_owned())]
    );
    assert_eq!(
        keys.data_keys_not_under("new", None, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        !keys
            .replace_data_key("ses_key_a", "old:stale", "new:a")
            .await
            .unwrap()
    );
    assert!(
        keys.replace_data_key("ses_key_a", "old:a", "new:a")
            .await
            .unwrap()
    );
    assert_eq!(
        stores
            .sessions
            .get(&live, "ses_key_a")
            .await
            .unwrap()
            .data_key
            .as_deref(),
        Some("new:a")
    );
    assert!(
        !keys
            .replace_data_key("ses_key_d", "old:d", "new:d")
            .await
            .unwrap()
    );
}
