//! Schemas generated from the types and limits the server validates with, for
//! `#[schema(schema_with = …)]` and `#[param(schema_with = …)]`: every enum lists the wire names
//! its domain type parses, every bounded text carries the limit the use case checks. A new
//! variant or a changed limit changes the document with it.

use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{KnownFormat, SchemaFormat};
use verifa_app::cases::BulkAction;
use verifa_app::sessions::{
    MAX_CHECK_NAME_LEN, MAX_CHECKS, MAX_DOCUMENT_TEXT, MAX_LINK_MINUTES, MAX_REDIRECT_URL_LEN,
};
use verifa_app::webhooks::{MAX_ENABLED_EVENTS, MAX_LABEL_LEN, MAX_URL_LEN};
use verifa_app::workflows::{MAX_DESCRIPTION_LEN as MAX_WORKFLOW_DESCRIPTION_LEN, MAX_NAME_LEN};
use verifa_domain::api_key::{self, KeyType};
use verifa_domain::case::{CaseStatus, Priority, SlaStatus};
use verifa_domain::documents::DocumentType;
use verifa_domain::fields;
use verifa_domain::inflection::Inflection;
use verifa_domain::org_user::{self, OrgRole};
use verifa_domain::scopes::ALL_SCOPES;
use verifa_domain::session::metadata::MAX_EXTERNAL_REF_LEN;
use verifa_domain::session::{ProcessingMode, RetentionStatus, SessionStatus, SimulateAction};
use verifa_domain::settings;
use verifa_domain::tenancy::Environment;
use verifa_domain::webhooks::events::subscription_patterns;
use verifa_domain::webhooks::payload::{MAX_BLOCKLIST_ENTRIES, MAX_FILTER_CONDITIONS};
use verifa_domain::workflow::{
    CheckStatus, Decision, DraftStatus, Format, Outcome, RunStatus, VersionSource,
};
use verifa_ports::webhook_store::DeliveryStatus;

/// A string that is one of `names`.
pub fn one_of<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Object {
    let names: Vec<String> = names.into_iter().map(Into::into).collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
        .build()
}

/// One of `names`, or `null`.
pub fn one_of_or_null<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Object {
    let mut values: Vec<Value> = names.into_iter().map(|n| Value::String(n.into())).collect();
    values.push(Value::Null);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(values))
        .build()
}

/// The wire names serde gives `variants`.
fn serde_names<T: Serialize>(variants: &[T]) -> Vec<String> {
    variants
        .iter()
        .filter_map(|v| serde_json::to_value(v).ok())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

macro_rules! enums {
    ($($(#[$doc:meta])* $name:ident, $or_null:ident => $names:expr;)*) => {$(
        $(#[$doc])*
        pub fn $name() -> Object {
            one_of($names)
        }

        /// The same, or `null`.
        pub fn $or_null() -> Object {
            one_of_or_null($names)
        }
    )*};
}

enums! {
    /// Session status.
    session_status, session_status_or_null => SessionStatus::ALL.map(SessionStatus::as_str);
    /// Retention status.
    retention_status, retention_status_or_null => RetentionStatus::ALL.map(RetentionStatus::as_str);
    /// Document type.
    document_type, document_type_or_null => DocumentType::ALL.map(DocumentType::as_str);
    /// Decision outcome.
    outcome, outcome_or_null => Outcome::ALL.map(Outcome::as_str);
    /// How a verdict was reached.
    processing_mode, processing_mode_or_null => serde_names(&ProcessingMode::ALL);
    /// Workflow run status.
    run_status, run_status_or_null => RunStatus::ALL.map(RunStatus::as_str);
    /// Check status.
    check_status, check_status_or_null => CheckStatus::ALL.map(CheckStatus::as_str);
    /// Gate decision.
    decision, decision_or_null => serde_names(&Decision::ALL);
    /// Definition format.
    format, format_or_null => Format::ALL.map(Format::as_str);
    /// Where a version came from.
    version_source, version_source_or_null => VersionSource::ALL.map(VersionSource::as_str);
    /// Draft status.
    draft_status, draft_status_or_null => DraftStatus::ALL.map(DraftStatus::as_str);
    /// Response key casing.
    inflection, inflection_or_null => Inflection::ALL.map(Inflection::as_str);
    /// Environment.
    environment, environment_or_null => Environment::ALL.map(Environment::as_str);
    /// Key type.
    key_type, key_type_or_null => KeyType::ALL.map(KeyType::as_str);
    /// Organization user role.
    org_role, org_role_or_null => OrgRole::ALL.map(OrgRole::as_str);
    /// Case priority.
    priority, priority_or_null => Priority::ALL.iter().map(|p| p.as_str());
    /// Bulk case action.
    bulk_action, bulk_action_or_null => BulkAction::ALL.map(BulkAction::as_str);
    /// Case status.
    case_status, case_status_or_null => CaseStatus::ALL.iter().map(|c| c.as_str());
    /// Webhook delivery status.
    delivery_status, delivery_status_or_null => DeliveryStatus::ALL.map(DeliveryStatus::as_str);
    /// Simulated action (`require_review` is accepted for `require-review`).
    simulate_action, simulate_action_or_null => SimulateAction::ALL
        .map(SimulateAction::as_str)
        .into_iter()
        .chain(["require_review"]);
}

/// A list of scope names.
pub fn scopes_or_null() -> Array {
    nullable_array(one_of(ALL_SCOPES.iter().copied()))
}

/// A list of `enabled_events` entries (event names, `*` and `<prefix>.*`).
pub fn event_patterns_or_null() -> Array {
    let mut list = nullable_array(one_of(subscription_patterns()));
    list.max_items = Some(MAX_ENABLED_EVENTS);
    list
}

/// A list of case statuses, or `null`.
pub fn case_statuses_or_null() -> Array {
    nullable_array(case_status())
}

/// A list of case priorities, or `null`.
pub fn priorities_or_null() -> Array {
    nullable_array(priority())
}

/// A list of SLA bands, or `null`.
pub fn sla_statuses_or_null() -> Array {
    nullable_array(one_of(SlaStatus::ALL.iter().map(|s| s.as_str())))
}

/// The `case_ids` of a bulk request: 1–100 distinct ids.
pub fn bulk_case_ids() -> Array {
    ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::String))
        .min_items(Some(1))
        .max_items(Some(verifa_app::cases::MAX_BULK_CASES))
        .unique_items(true)
        .build()
}

/// 1–100 distinct session ids (bulk redaction).
pub fn bulk_session_ids() -> Array {
    ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::String))
        .min_items(Some(1))
        .max_items(Some(verifa_app::sessions::MAX_BULK_REDACT))
        .unique_items(true)
        .build()
}

/// A catalogued event name, or `null`.
pub fn event_type_or_null() -> Object {
    one_of_or_null(
        verifa_domain::webhooks::events::EVENT_TYPES
            .iter()
            .map(|e| e.name),
    )
}

fn nullable_array(items: Object) -> Array {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(items)
        .build()
}

/// Text of 0 to `max` characters, or `null`.
pub fn text_or_null(max: usize) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(max))
        .build()
}

/// Text with something besides white space, at most `max` characters.
pub fn required_text(max: usize) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(r"\S"))
        .build()
}

/// Characters an email may not contain: white space and the C0/C1 controls, the set
/// [`org_user::check_email`] refuses (`\s` is Unicode white space, as Rust's
/// `char::is_whitespace`).
const EMAIL_CHAR: &str = r"[^@\s\x00-\x1f\x7f-\x9f]";

/// An organization user's email, as [`org_user::check_email`] accepts it.
pub fn email() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(org_user::MAX_EMAIL_LEN))
        .pattern(Some(format!(
            "^{c}+@{d}{c}*\\.{c}*{d}$",
            c = EMAIL_CHAR,
            d = r"[^@\s\x00-\x1f\x7f-\x9f.]"
        )))
        .build()
}

/// The same, or `null` (left unchanged).
pub fn email_or_null() -> Object {
    let mut schema = email();
    schema.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    schema
}

/// An organization user's display name.
pub fn user_name() -> Object {
    required_text(org_user::MAX_NAME_LEN)
}

/// The same, or `null` (left unchanged).
pub fn user_name_or_null() -> Object {
    let mut schema = user_name();
    schema.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    schema
}

/// An API key's label.
pub fn key_label_or_null() -> Object {
    text_or_null(api_key::MAX_LABEL_LEN)
}

/// An API key's note.
pub fn key_note_or_null() -> Object {
    text_or_null(api_key::MAX_NOTE_LEN)
}

/// A session's external reference.
pub fn external_ref_or_null() -> Object {
    text_or_null(MAX_EXTERNAL_REF_LEN)
}

/// A date-time in RFC 3339.
pub fn date_time() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .build()
}

/// A query date: an RFC 3339 date-time or a `YYYY-MM-DD` day.
pub fn date_or_date_time() -> utoipa::openapi::schema::Schema {
    let of = |format| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(format)))
    };
    utoipa::openapi::schema::Schema::AnyOf(
        utoipa::openapi::schema::AnyOfBuilder::new()
            .item(of(KnownFormat::Date))
            .item(of(KnownFormat::DateTime))
            .build(),
    )
}

/// `true` or `false` in a query string.
pub fn query_bool() -> Object {
    one_of(["true", "false"])
}

/// A pinned API version, or `null`. The versions the server accepts are configuration: the
/// placeholder is replaced in the finished document ([`super::finish`]).
pub fn api_version_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .format(Some(SchemaFormat::Custom(API_VERSION_FORMAT.into())))
        .build()
}

/// Marks the schemas [`super::finish`] gives the accepted versions.
pub const API_VERSION_FORMAT: &str = "verifa-api-version";

const IPV4: &str = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}";
const IPV6: &str = r"(([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:(:[0-9a-fA-F]{1,4}){1,6}|:((:[0-9a-fA-F]{1,4}){1,7}|:))";

/// An IP address or CIDR range (v4 or v6), at most [`api_key::MAX_ALLOWED_IPS`] of them.
pub fn allowed_ips_or_null() -> Array {
    let entry = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!(
            r"^\s*({IPV4}(/(3[0-2]|[12]?[0-9]))?|{IPV6}(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)\s*$"
        )))
        .build();
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(entry)
        .max_items(Some(api_key::MAX_ALLOWED_IPS))
        .build()
}

/// An integrator's free-form object (session and case metadata, case and identity custom
/// fields): at most [`fields::MAX_KEYS`] keys of 1 to [`fields::MAX_KEY_LEN`] characters (each
/// value at most 16 KiB once serialised, which a schema cannot say).
pub fn free_form_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .max_properties(Some(fields::MAX_KEYS))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(fields::MAX_KEY_LEN)),
        ))
        .build()
}

/// An external reference: 1 to 255 characters, not blank; or `null`.
pub fn session_external_ref_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .min_length(Some(1))
        .max_length(Some(MAX_EXTERNAL_REF_LEN))
        .pattern(Some(r"\S"))
        .build()
}

/// An ISO 3166-1 alpha-2 code (any case), or `null`.
pub fn country_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .pattern(Some("^[A-Za-z]{2}$"))
        .build()
}

/// Per-session check overrides: policy names.
pub fn checks_or_null() -> Array {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(MAX_CHECK_NAME_LEN)),
        )
        .max_items(Some(MAX_CHECKS))
        .build()
}

/// An http(s) URL, or `null`.
pub fn redirect_url_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(MAX_REDIRECT_URL_LEN))
        .pattern(Some("^https?://"))
        .build()
}

/// One-time link lifetime in minutes, or `null`.
pub fn link_minutes_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .minimum(Some(1))
        .maximum(Some(MAX_LINK_MINUTES))
        .build()
}

/// Text read from an uploaded document, or `null`.
pub fn document_text_or_null() -> Object {
    text_or_null(MAX_DOCUMENT_TEXT)
}

/// A JSON object, or `null`.
pub fn object_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .build()
}

/// A webhook destination: an `https://` URL with a host (`http://` too where private networks
/// are allowed: [`super::finish`] sets the scheme from the configuration). Whether the host may
/// be called — public, not this machine — is checked by name and address, beyond a schema.
pub fn webhook_url() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(MAX_URL_LEN))
        .format(Some(SchemaFormat::Custom(WEBHOOK_URL_FORMAT.into())))
        .build()
}

/// Marks the schemas [`super::finish`] gives the webhook URL pattern.
pub const WEBHOOK_URL_FORMAT: &str = "verifa-webhook-url";

/// [`webhook_url`], or `null` (unchanged).
pub fn webhook_url_or_null() -> Object {
    let mut url = webhook_url();
    url.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    url
}

/// An endpoint's label.
pub fn webhook_label_or_null() -> Object {
    text_or_null(MAX_LABEL_LEN)
}

/// An endpoint's description.
pub fn webhook_description_or_null() -> Object {
    text_or_null(verifa_app::webhooks::MAX_DESCRIPTION_LEN)
}

/// Attribute paths: dotted, no segment empty once trimmed.
pub fn blocklist_or_null() -> Array {
    let path = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(r"^(?![\s\S]*\.\.)\s*[^\s.]([\s\S]*[^\s.])?\s*$"))
        .build();
    let mut list = nullable_array(path);
    list.max_items = Some(MAX_BLOCKLIST_ENTRIES);
    list
}

/// `event_filter_conditions`: field → a scalar or a non-empty list of scalars.
pub fn filter_conditions_or_null() -> Object {
    let scalar = || {
        ObjectBuilder::new().schema_type(SchemaType::from_iter([
            Type::String,
            Type::Number,
            Type::Boolean,
            Type::Null,
        ]))
    };
    let condition = utoipa::openapi::schema::OneOfBuilder::new()
        .item(scalar())
        .item(ArrayBuilder::new().items(scalar()).min_items(Some(1)));
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .max_properties(Some(MAX_FILTER_CONDITIONS))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"\S")),
        ))
        .additional_properties(Some(utoipa::openapi::schema::Schema::OneOf(
            condition.build(),
        )))
        .build()
}

/// A workflow name: not blank, at most [`MAX_NAME_LEN`] characters.
pub fn workflow_name() -> Object {
    required_text(MAX_NAME_LEN)
}

/// [`workflow_name`], or `null` (unchanged, or the default).
pub fn workflow_name_or_null() -> Object {
    let mut name = workflow_name();
    name.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    name
}

/// A workflow description, or `null`.
pub fn workflow_description_or_null() -> Object {
    text_or_null(MAX_WORKFLOW_DESCRIPTION_LEN)
}

/// Legacy steps: a list of at least one step (`policy`, optional `config`), or `null`.
pub fn steps_or_null() -> Array {
    let step = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("policy", ObjectBuilder::new().schema_type(Type::String))
        .property(
            "config",
            ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::Object, Type::Null])),
        )
        .required("policy")
        .additional_properties(Some(
            utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
        ))
        .build();
    let mut steps = nullable_array(step);
    steps.min_items = Some(1);
    steps
}

/// A rollout share, 0 to 100.
pub fn percentage() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .maximum(Some(100))
        .build()
}

/// [`percentage`], or `null` (100).
pub fn percentage_or_null() -> Object {
    let mut p = percentage();
    p.schema_type = SchemaType::from_iter([Type::Integer, Type::Null]);
    p
}

/// A version number (1, 2, …).
pub fn version_number() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(i32::MAX))
        .build()
}

/// [`version_number`], or `null` (the current version).
pub fn version_number_or_null() -> Object {
    let mut v = version_number();
    v.schema_type = SchemaType::from_iter([Type::Integer, Type::Null]);
    v
}

/// Draft steps: the shape of steps (a draft may be invalid while edited), or `null`.
pub fn draft_steps_or_null() -> Array {
    let mut steps = nullable_array(ObjectBuilder::new().schema_type(Type::Object).build());
    steps.min_items = Some(1);
    steps
}

fn closed() -> Option<utoipa::openapi::schema::AdditionalProperties<utoipa::openapi::Schema>> {
    Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(
        false,
    ))
}

/// The `input` of a dry-run ([`verifa_domain::workflow::DryRunInput`]), or `null` (empty).
pub fn dry_run_input_or_null() -> Object {
    use utoipa::openapi::schema::{AdditionalProperties, OneOfBuilder, Schema};
    let object = || ObjectBuilder::new().schema_type(Type::Object);
    let simulated = || {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("status", check_status())
            .property("output", ObjectBuilder::new())
            .required("status")
            .additional_properties(closed())
            .build()
    };
    let result = OneOfBuilder::new()
        .item(simulated())
        .item(ArrayBuilder::new().items(simulated()).min_items(Some(1)))
        .build();
    let session = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "country",
            ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null])),
        )
        .property("metadata", object())
        .property(
            "is_sandbox",
            ObjectBuilder::new().schema_type(Type::Boolean),
        )
        .additional_properties(closed());
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .property("extracted_data", object())
        .property("session", session)
        .property(
            "check_results",
            object().additional_properties(Some(AdditionalProperties::RefOr(
                Schema::OneOf(result).into(),
            ))),
        )
        .property(
            "external_decisions",
            object().additional_properties(Some(AdditionalProperties::RefOr(
                Schema::Object(decision()).into(),
            ))),
        )
        .additional_properties(closed())
        .build()
}

/// An integer from `lo` to `hi`, or `null`.
fn int_or_null(lo: u32, hi: u32) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .minimum(Some(f64::from(lo)))
        .maximum(Some(f64::from(hi)))
        .build()
}

/// `data_retention_days`.
pub fn retention_days_or_null() -> Object {
    int_or_null(1, settings::MAX_RETENTION_DAYS)
}

/// `sensitive_data_retention_days`.
pub fn sensitive_days_or_null() -> Object {
    int_or_null(0, settings::MAX_RETENTION_DAYS)
}

/// `image_url_expiry_seconds`.
pub fn url_expiry_or_null() -> Object {
    let (lo, hi) = settings::IMAGE_URL_EXPIRY_SECONDS;
    int_or_null(lo, hi)
}

/// `case_sla_hours`.
pub fn sla_hours_or_null() -> Object {
    let (lo, hi) = settings::CASE_SLA_HOURS;
    int_or_null(lo, hi)
}

/// `case_dual_review`.
pub fn dual_review_or_null() -> Object {
    one_of_or_null(["off", "all"])
}

/// `api_pii_fields`: a list of the reference's `extracted_data` keys, or `null`.
pub fn pii_fields_or_null() -> Array {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(one_of(settings::PII_FIELDS))
        .build()
}

/// `allowed_origins`: at most 20 origins (what an origin is exactly is checked by the server).
pub fn origins_or_null() -> Array {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^https?://[^/?#@\s]+$")),
        )
        .max_items(Some(settings::MAX_ALLOWED_ORIGINS))
        .build()
}

/// `branding.display_name`.
pub fn text_or_null_max_100() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(settings::MAX_DISPLAY_NAME_LEN))
        .build()
}

/// `branding.logo_url`.
pub fn https_url_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(settings::MAX_LOGO_URL_LEN))
        .pattern(Some(r"^https://\S+$"))
        .build()
}

/// `branding.primary_color`.
pub fn color_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .pattern(Some("^#[0-9A-Fa-f]{6}$"))
        .build()
}

/// `branding.default_locale`.
pub fn locale_or_null() -> Object {
    one_of_or_null(settings::LOCALES)
}

/// `extracted_data` of a PII correction: reference §14.1 keys, each text or `null`.
pub fn pii_correction() -> Object {
    let value = ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .min_length(Some(1))
        .max_length(Some(verifa_app::cases::MAX_PII_VALUE_LEN))
        .pattern(Some(r"\S"))
        .build();
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .min_properties(Some(1))
        .additional_properties(Some(
            utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
        ));
    for key in settings::PII_FIELDS {
        object = object.property(key, value.clone());
    }
    object.build()
}
