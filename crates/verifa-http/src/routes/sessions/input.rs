//! `POST /sessions` accepts aliases and casings (reference §2.3, CONTRACT §1.5): snake, camel and
//! kebab keys, alternative names, and the JSON:API envelope `{"data": {"attributes": {…}}}`.
//! This module normalises such a body into canonical snake_case names.

use serde_json::{Map, Value};

/// Canonical name of an accepted key (after casing normalisation), or `None` when unknown.
fn canonical(key: &str) -> Option<&'static str> {
    Some(match key {
        "external_ref" | "external_reference" | "external_id" | "reference" | "reference_id"
        | "user_id" | "customer_id" => "external_ref",
        "metadata" | "meta" => "metadata",
        "country" | "country_code" | "country_iso" => "country",
        "checks" | "check_types" => "checks",
        "workflow_id" | "workflow" => "workflow_id",
        "redirect_url" | "redirect_uri" | "return_url" | "callback_url" | "success_url" => {
            "redirect_url"
        }
        "fields" | "prefill" | "pre_fill" | "prefill_fields" | "fields_prefill" => "fields",
        "send_email" => "send_email",
        "applicant_email" | "email" => "applicant_email",
        "applicant_name" | "display_name" | "name" => "applicant_name",
        _ => return None,
    })
}

/// Converts camelCase and kebab-case to snake_case.
pub fn snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for (i, c) in key.chars().enumerate() {
        if c == '-' || c == ' ' {
            out.push('_');
        } else if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Field aliases inside `fields` (pre-fill).
fn canonical_field(key: &str) -> String {
    match key {
        "firstname" | "given_name" | "name_first" => "first_name".into(),
        "lastname" | "surname" | "family_name" | "name_last" => "last_name".into(),
        "dob" | "birthdate" | "birth_date" => "date_of_birth".into(),
        "email_address" => "email".into(),
        "phone_number" | "mobile" => "phone".into(),
        other => other.to_owned(),
    }
}

/// Normalises a create-session body: unwraps the JSON:API envelope, renames keys; unknown
/// keys are dropped (aliases make strict rejection impractical here, as the contract allows).
pub fn normalise(body: Value) -> Result<Map<String, Value>, String> {
    let obj = match body {
        Value::Null => Map::new(),
        Value::Object(m) => m,
        _ => return Err("the body must be a JSON object".into()),
    };
    let obj = match obj
        .get("data")
        .and_then(|d| d.get("attributes"))
        .and_then(Value::as_object)
    {
        Some(attrs) => attrs.clone(),
        None => obj,
    };
    let mut out = Map::new();
    for (k, v) in obj {
        let Some(name) = canonical(&snake(&k)) else {
            continue;
        };
        let v = if name == "fields" {
            match v {
                Value::Object(fields) => Value::Object(
                    fields
                        .into_iter()
                        .map(|(fk, fv)| (canonical_field(&snake(&fk)), fv))
                        .collect(),
                ),
                other => other,
            }
        } else {
            v
        };
        out.insert(name.to_owned(), v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn casings_aliases_and_envelope() {
        let out = normalise(json!({"data": {"attributes": {"externalRef": "u1", "country-code": "us", "Fields": {"firstName": "Jane", "dob": "1990-01-01"}, "whatever": 1}}})).unwrap();
        assert_eq!(out["external_ref"], "u1");
        assert_eq!(out["country"], "us");
        assert_eq!(
            out["fields"],
            json!({"first_name": "Jane", "date_of_birth": "1990-01-01"})
        );
        assert!(!out.contains_key("whatever"));
        assert_eq!(snake("redirectURL"), "redirect_u_r_l");
        assert!(normalise(json!([1])).is_err());
        assert_eq!(normalise(Value::Null).unwrap().len(), 0);
    }
}
