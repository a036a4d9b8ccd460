//! `POST /identities/search` (CONTRACT §7.3): direct filters and personal data matched by keyed
//! lookup hash. The body's personal values are normalised and hashed by the use case and never
//! logged or echoed back.

use super::READ;
use super::objects::IdentityList;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Authenticated};
use crate::routes::pagination::{AnyPagination, Pagination};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use verifa_app::identities::SearchQuery;
use verifa_app::{AppError, FieldError};
use verifa_domain::identity::lookup::LookupField;
use verifa_domain::pagination::{DEFAULT_LIMIT, PageRequest};

/// Body of `POST /identities/search`. At least one filter; `first_name`, `last_name` and
/// `date_of_birth` only together; every filter given must match (AND). A blank value is no
/// filter. Personal values match what one session of the identity recorded, after the same
/// normalisation (case, diacritics, spacing and punctuation do not matter).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentitySearchBody {
    /// Exact external reference.
    pub external_ref: Option<String>,
    /// `pending`, `approved` (alias `verified`), `failed`, `rejected`, `redacted`, `merged`.
    #[schema(pattern = r"^(pending|approved|verified|failed|rejected|redacted|merged)?$")]
    pub status: Option<String>,
    /// ISO 3166-1 alpha-2 country of the identity.
    #[schema(pattern = r"^([A-Za-z]{2})?$")]
    pub country: Option<String>,
    /// Given name (with `last_name` and `date_of_birth`).
    pub first_name: Option<String>,
    /// Family name (with `first_name` and `date_of_birth`).
    pub last_name: Option<String>,
    /// `YYYY-MM-DD` (with `first_name` and `last_name`).
    #[schema(format = Date)]
    pub date_of_birth: Option<String>,
    /// Identity document number (letters and digits compared).
    pub document_number: Option<String>,
    /// Social security number (letters and digits compared).
    pub ssn: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number (its last ten digits compared; at least seven digits).
    pub phone: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State or region.
    pub state: Option<String>,
    /// Postal code (letters and digits compared).
    pub zip_code: Option<String>,
    /// Rows per page, 1–100 (default 25).
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Rows to skip, 0–1 000 000.
    #[schema(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

impl IdentitySearchBody {
    /// The use case's query and page.
    fn into_query(self) -> Result<(SearchQuery, PageRequest), AppError> {
        let page = PageRequest::new(self.limit, self.offset, DEFAULT_LIMIT).map_err(|errs| {
            AppError::Validation(
                errs.into_iter()
                    .map(|e| FieldError::new(e.field, e.message))
                    .collect(),
            )
        })?;
        let hashed = [
            (LookupField::FirstName, self.first_name),
            (LookupField::LastName, self.last_name),
            (LookupField::DateOfBirth, self.date_of_birth),
            (LookupField::DocumentNumber, self.document_number),
            (LookupField::Ssn, self.ssn),
            (LookupField::Email, self.email),
            (LookupField::Phone, self.phone),
            (LookupField::City, self.city),
            (LookupField::State, self.state),
            (LookupField::ZipCode, self.zip_code),
        ]
        .into_iter()
        .filter_map(|(field, value)| value.map(|v| (field, v)))
        .collect();
        let query = SearchQuery {
            external_ref: self.external_ref,
            status: self.status,
            country: self.country,
            hashed,
        };
        Ok((query, page))
    }
}

/// Searches identities (archived ones included), newest first.
#[utoipa::path(post, path = "/api/v1/identities/search", tag = "identities", request_body = IdentitySearchBody, security(("api_key" = [])), responses(
    (status = 200, body = IdentityList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search_identities(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<IdentitySearchBody>,
) -> ApiResult<Json<IdentityList>> {
    let caller = auth.require(READ)?;
    let (query, page) = body.into_query()?;
    let page = state
        .services
        .identities
        .search(caller, query, page)
        .await?;
    let pagination = AnyPagination::Offset(Pagination::from(&page));
    Ok(Json(IdentityList {
        data: page.items.into_iter().map(Into::into).collect(),
        pagination,
    }))
}
