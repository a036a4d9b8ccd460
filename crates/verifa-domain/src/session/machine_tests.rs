use super::*;
use crate::tenancy::{Environment, Tenant};
use SessionStatus as S;
use chrono::TimeZone;

fn at(min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 1, 12, min, 0)
        .single()
        .unwrap_or_default()
}

fn session(status: SessionStatus) -> Session {
    Session {
        id: "ses_1".into(),
        tenant: Tenant::new("org_1", Environment::Live),
        status,
        workflow_id: None,
        external_ref: Some("user_1".into()),
        identity_id: None,
        case_id: None,
        case_status: None,
        metadata: Map::new(),
        country: None,
        checks: None,
        fields_sealed: None,
        data_key: None,
        redirect_url: None,
        capture_token_hash: Some("old".into()),
        token_expires_at: Some(at(20)),
        document_type: None,
        retention_status: super::super::RetentionStatus::Active,
        processing_attempts: 0,
        consent_ip: None,
        tags: vec![],
        expired_at: None,
        completed_at: None,
        redacted_at: None,
        retention_expired_at: None,
        created_at: at(0),
        updated_at: at(0),
        revision: 0,
    }
}

fn token() -> CaptureToken {
    CaptureToken {
        hash: "new".into(),
        expires_at: at(40),
    }
}

fn allowed(status: SessionStatus, action: Action) -> bool {
    transition(&session(status), action, at(5)).is_ok()
}

#[test]
fn transitions_follow_the_reference() {
    let run = || Action::SubmitAndRun {
        workflow_id: "wfl_1".into(),
    };
    let rerun = || Action::Rerun {
        workflow_id: "wfl_1".into(),
    };
    let expire = || Action::Expire {
        reason: ExpireReason::Requested,
    };
    let table: Vec<(S, Action, bool)> = vec![
        (S::Pending, Action::UploadDocument, true),
        (S::Processing, Action::UploadDocument, false),
        (S::Capturing, run(), true),
        (S::Processing, run(), false),
        (S::Capturing, Action::SubmitToSandbox, true),
        (S::Completed, expire(), false),
        (S::AwaitingExternal, expire(), true),
        (S::Expired, Action::Resume { token: token() }, true),
        (S::Completed, Action::Resume { token: token() }, false),
        (S::Completed, rerun(), true),
        (S::Failed, rerun(), true),
        (S::Processing, rerun(), false),
        (S::AwaitingExternal, Action::ExternalDecision, true),
        (S::Processing, Action::ExternalDecision, false),
        (S::AwaitingExternal, Action::ResumeRun, true),
        (S::Failed, Action::ResumeRun, true),
        (S::Completed, Action::ResumeRun, false),
        (
            S::UnderReview,
            Action::ContinueAfterOverride {
                case_id: "case_1".into(),
            },
            true,
        ),
        (
            S::Completed,
            Action::ContinueAfterOverride {
                case_id: "case_1".into(),
            },
            false,
        ),
        (
            S::Completed,
            Action::Simulate {
                outcome: Outcome::Approved,
            },
            false,
        ),
        (
            S::SandboxPending,
            Action::Simulate {
                outcome: Outcome::Approved,
            },
            true,
        ),
        (S::Failed, Action::GenerateLink { token: token() }, false),
        (S::Processing, Action::GenerateLink { token: token() }, true),
        (S::Processing, Action::RunFailed, true),
        (S::AwaitingExternal, Action::RunFailed, true),
        (S::Expired, Action::RunFailed, false),
    ];
    for (status, action, ok) in table {
        let label = format!("{status:?} {action:?}");
        assert_eq!(allowed(status, action), ok, "{label}");
    }
    let Err(err) = transition(&session(S::Completed), expire(), at(5)) else {
        panic!("expiring a completed session must be refused");
    };
    assert!(err.to_string().contains("'completed'"), "{err}");
    assert_eq!(err.current, S::Completed);
}

#[test]
fn every_status_may_be_updated() {
    for status in SessionStatus::ALL {
        assert!(allowed(
            status,
            Action::Update {
                external_ref: None,
                metadata: None
            }
        ));
    }
}

#[test]
fn the_first_upload_starts_the_capture() {
    let t = transition(&session(S::Pending), Action::UploadDocument, at(5)).unwrap_or_else(|e| {
        panic!("{e}");
    });
    assert_eq!(t.session.status, S::Capturing);
    assert_eq!(t.events, vec![SessionEvent::Started]);
    assert_eq!(t.session.updated_at, at(5));
    assert_eq!(t.before, S::Pending);
    let again = transition(&t.session, Action::UploadDocument, at(6)).unwrap_or_else(|e| {
        panic!("{e}");
    });
    assert!(again.events.is_empty(), "only the first upload starts it");
}

#[test]
fn starting_a_run_counts_it_and_reopens_the_session() {
    let mut done = session(S::Completed);
    done.completed_at = Some(at(3));
    done.processing_attempts = 1;
    let t = transition(
        &done,
        Action::Rerun {
            workflow_id: "wfl_2".into(),
        },
        at(5),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.session.status, S::Processing);
    assert_eq!(t.session.workflow_id.as_deref(), Some("wfl_2"));
    assert_eq!(t.session.processing_attempts, 2);
    assert_eq!(t.session.completed_at, None);
    assert!(t.events.is_empty());
}

#[test]
fn expiry_revokes_the_token_and_says_why() {
    let t = transition(
        &session(S::Capturing),
        Action::Expire {
            reason: ExpireReason::CaptureTokenExpired,
        },
        at(21),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.session.status, S::Expired);
    assert_eq!(t.session.expired_at, Some(at(21)));
    assert_eq!(t.session.capture_token_hash, None);
    assert_eq!(
        t.session.token_expires_at,
        Some(at(20)),
        "the expiry stays visible"
    );
    let payload = t.events[0].payload(&t.session);
    assert_eq!(payload["reason"], "capture_token_expired");
    assert_eq!(payload["status"], "expired");
}

#[test]
fn a_new_link_reopens_an_expired_session() {
    let mut expired = session(S::Expired);
    expired.expired_at = Some(at(2));
    expired.capture_token_hash = None;
    let t = transition(&expired, Action::GenerateLink { token: token() }, at(5))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.session.status, S::Pending);
    assert_eq!(t.session.expired_at, None);
    assert_eq!(t.session.capture_token_hash.as_deref(), Some("new"));
    assert_eq!(t.session.token_expires_at, Some(at(40)));
    assert_eq!(t.events, vec![SessionEvent::LinkGenerated]);
    let resumed = transition(&expired, Action::Resume { token: token() }, at(5))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(resumed.events.is_empty(), "resume announces nothing");
}

#[test]
fn run_outcomes_decide_the_session() {
    for (outcome, status, event) in [
        (Outcome::Approved, S::Completed, "session.approved"),
        (Outcome::Rejected, S::Completed, "session.declined"),
        (
            Outcome::NeedsReview,
            S::UnderReview,
            "session.requires-review",
        ),
    ] {
        let t = transition(
            &session(S::Processing),
            Action::RunCompleted {
                outcome,
                source: VerdictSource::Run {
                    run_id: "wfr_1".into(),
                    face_match_passed: Some(true),
                    age_check_passed: None,
                },
            },
            at(9),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.session.status, status);
        assert_eq!(t.session.completed_at, Some(at(9)));
        assert_eq!(t.events.len(), 1);
        assert_eq!(t.events[0].event_type(), event);
        let payload = t.events[0].payload(&t.session);
        assert_eq!(payload["workflow_run_id"], "wfr_1");
        assert_eq!(payload["result"]["status"], outcome.as_str());
        assert_eq!(payload["result"]["face_match_passed"], true);
    }
}

#[test]
fn a_pause_announces_the_gate() {
    let t = transition(
        &session(S::Processing),
        Action::RunPaused {
            run_id: "wfr_1".into(),
            node_id: Some("gate".into()),
        },
        at(9),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.session.status, S::AwaitingExternal);
    let payload = t.events[0].payload(&t.session);
    assert_eq!(t.events[0].event_type(), "session.awaiting_external");
    assert_eq!(payload["paused_at_node"], "gate");
    assert_eq!(payload["session_id"], "ses_1");
    assert_eq!(payload["external_ref"], "user_1");
}

#[test]
fn updates_merge_metadata_and_change_nothing_else() {
    let mut s = session(S::Completed);
    s.metadata.insert("keep".into(), Value::from(1));
    s.metadata.insert("drop".into(), Value::from(2));
    let mut patch = Map::new();
    patch.insert("drop".into(), Value::Null);
    patch.insert("new".into(), Value::from(3));
    let t = transition(
        &s,
        Action::Update {
            external_ref: Some(None),
            metadata: Some(patch),
        },
        at(5),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.session.status, S::Completed);
    assert_eq!(t.session.external_ref, None);
    assert_eq!(
        Value::Object(t.session.metadata),
        serde_json::json!({"keep": 1, "new": 3})
    );
    assert!(t.events.is_empty());
}

#[test]
fn simulations_map_to_outcomes() {
    assert_eq!(
        simulated_outcome(SimulateAction::Decline),
        Some(Outcome::Rejected)
    );
    assert_eq!(simulated_outcome(SimulateAction::Expire), None);
    let t = transition(
        &session(S::SandboxPending),
        Action::Simulate {
            outcome: Outcome::NeedsReview,
        },
        at(5),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.session.status, S::UnderReview);
    let payload = t.events[0].payload(&t.session);
    assert_eq!(payload["result"]["simulated"], true);
}

#[test]
fn refusals_change_nothing_and_name_the_status() {
    for status in SessionStatus::ALL {
        let s = session(status);
        if let Err(e) = transition(&s, Action::RunFailed, at(5)) {
            assert_eq!(e.current, status);
            assert!(e.to_string().contains(status.as_str()), "{e}");
        }
    }
}

#[test]
fn a_finished_session_can_be_sent_to_review_once() {
    let open = || Action::OpenCase {
        case_id: "case_1".into(),
    };
    for status in [S::Completed, S::Failed] {
        let mut done = session(status);
        done.completed_at = Some(at(3));
        let t = transition(&done, open(), at(5)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.session.status, S::UnderReview);
        assert_eq!(
            t.session.completed_at, None,
            "under review is not completed"
        );
        assert_eq!(
            t.events,
            vec![SessionEvent::Decided {
                outcome: Outcome::NeedsReview,
                source: VerdictSource::Review {
                    case_id: "case_1".into()
                },
            }]
        );
    }
    for status in [S::Pending, S::Processing, S::UnderReview, S::Expired] {
        assert!(!allowed(status, open()), "{status:?}");
    }
}

#[test]
fn documents_are_served_only_while_the_data_is_kept() {
    let mut s = session(SessionStatus::Completed);
    assert!(s.serves_documents());
    use crate::session::RetentionStatus;
    for gone in [
        RetentionStatus::SensitiveRedacted,
        RetentionStatus::Redacted,
    ] {
        s.retention_status = gone;
        assert!(!s.serves_documents(), "{gone:?}");
    }
}

fn redact() -> Action {
    Action::Redact {
        reason: RedactReason::Requested,
        documents_removed: 3,
    }
}

#[test]
fn redaction_drops_the_personal_data_and_the_key() {
    let mut done = session(S::Completed);
    done.fields_sealed = Some("sealed-fields".into());
    done.consent_ip = Some("sealed-ip".into());
    done.data_key = Some("key:wrapped".into());
    let t = transition(&done, redact(), at(5)).unwrap_or_else(|e| panic!("{e}"));
    let s = &t.session;
    assert_eq!(s.status, S::Completed, "the outcome stays");
    assert_eq!(
        (
            &s.fields_sealed,
            &s.consent_ip,
            &s.data_key,
            &s.capture_token_hash
        ),
        (&None, &None, &None, &None)
    );
    assert!(s.is_redacted());
    assert_eq!(s.redacted_at, Some(at(5)));
    assert_eq!(
        t.events,
        vec![SessionEvent::Redacted {
            reason: RedactReason::Requested,
            documents_removed: 3
        }]
    );
    let payload = t.events[0].payload(s);
    assert_eq!(payload["retention_status"], "redacted");
    assert_eq!(payload["documents_removed"], 3);
}

#[test]
fn a_capturing_session_is_expired_before_it_is_redacted() {
    for status in [S::Pending, S::Capturing, S::SandboxPending] {
        let t = transition(&session(status), redact(), at(5)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.session.status, S::Expired, "{status:?}");
        assert!(matches!(t.events[0], SessionEvent::Expired { .. }));
        assert!(matches!(t.events[1], SessionEvent::Redacted { .. }));
    }
}

#[test]
fn work_under_way_is_not_redacted() {
    for status in [S::Processing, S::AwaitingExternal, S::UnderReview] {
        let e = transition(&session(status), redact(), at(5))
            .err()
            .unwrap_or_else(|| panic!("{status:?} was redacted"));
        assert_eq!(e.current, status);
        assert!(e.to_string().contains("wait until"), "{e}");
    }
}

#[test]
fn a_redacted_session_refuses_every_change() {
    let mut gone = session(S::Completed);
    gone.retention_status = super::super::RetentionStatus::Redacted;
    let actions = [
        redact(),
        Action::Update {
            external_ref: Some(Some("user_2".into())),
            metadata: None,
        },
        Action::Resume { token: token() },
        Action::GenerateLink { token: token() },
        Action::Rerun {
            workflow_id: "wfl_1".into(),
        },
        Action::Expire {
            reason: ExpireReason::Requested,
        },
    ];
    for action in actions {
        if let Ok(t) = transition(&gone, action.clone(), at(5)) {
            panic!("{action:?} changed a redacted session: {:?}", t.session);
        }
    }
}

#[test]
fn the_sensitive_window_hides_data_and_refuses_what_needs_it() {
    use super::super::RetentionStatus;
    for status in [S::Completed, S::Expired, S::Failed] {
        let t = transition(&session(status), Action::ExpireSensitiveData, at(5))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            t.session.retention_status,
            RetentionStatus::SensitiveRedacted
        );
        assert_eq!(t.session.status, status, "the status stays");
        assert!(t.events.is_empty(), "no webhook for the sensitive window");
        assert!(!t.session.serves_documents());
        let e = transition(&t.session, Action::Resume { token: token() }, at(6))
            .err()
            .unwrap_or_else(|| panic!("{status:?} resumed"));
        assert!(e.to_string().contains("retention"), "{e}");
        assert!(transition(&t.session, Action::ExpireSensitiveData, at(6)).is_err());
        assert!(
            transition(&t.session, Action::ExpireRetention, at(6)).is_ok(),
            "the full period still ends"
        );
    }
    for status in [
        S::Pending,
        S::Processing,
        S::UnderReview,
        S::AwaitingExternal,
    ] {
        assert!(!allowed(status, Action::ExpireSensitiveData), "{status:?}");
        assert!(!allowed(status, Action::ExpireRetention), "{status:?}");
    }
}

#[test]
fn retention_expires_once() {
    let t = transition(&session(S::Completed), Action::ExpireRetention, at(5))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.session.retention_expired_at, Some(at(5)));
    assert_eq!(t.events, vec![SessionEvent::RetentionExpired]);
    assert_eq!(t.events[0].event_type(), "session.retention-expired");
    let payload = t.events[0].payload(&t.session);
    assert_eq!(payload["data_redacted"], false);
    assert_eq!(payload["retention_status"], "active");
    assert!(transition(&t.session, Action::ExpireRetention, at(6)).is_err());
    let redacted = transition(
        &t.session,
        Action::Redact {
            reason: RedactReason::Requested,
            documents_removed: 0,
        },
        at(7),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(redacted.session.is_redacted(), "redaction by hand follows");
}

#[test]
fn retention_redaction_announces_retention_expiry() {
    let t = transition(
        &session(S::Completed),
        Action::Redact {
            reason: RedactReason::RetentionExpired,
            documents_removed: 4,
        },
        at(5),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.session.retention_expired_at, Some(at(5)));
    assert_eq!(t.events[0].event_type(), "session.retention-expired");
    assert_eq!(t.events[0].payload(&t.session)["data_redacted"], true);
}
