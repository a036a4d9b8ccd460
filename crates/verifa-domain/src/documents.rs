//! Session documents: the document types, the upload size limit, file-type sniffing by magic
//! bytes, which documents a session needs before it can be submitted, and what a download
//! link signs.
//!
//! The declared content type of an upload is never trusted: [`sniff`] looks only at the first
//! bytes of the file and accepts JPEG, PNG, WebP and PDF.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What the signature of a session document's download link covers (CONTRACT §11.5):
/// `{session_id}.{doc_type}.{expires}`, `expires` in Unix seconds. The document type is signed
/// as the link spells it, so a link to one side cannot be turned into a link to another.
pub fn download_link_message(session_id: &str, document_type: &str, expires: i64) -> String {
    format!("{session_id}.{document_type}.{expires}")
}

/// Largest accepted document upload, in bytes (10 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

/// The kind of a session document (`document_type` on upload, `doc_type` on listing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentType {
    /// Front side of the identity document (always required).
    IdFront,
    /// Back side of the identity document (driver's licences and national ids).
    IdBack,
    /// Selfie of the applicant (required when the workflow runs `face_match`).
    Selfie,
    /// Proof of address (utility bill, bank statement, …); never required for submission.
    ProofOfAddress,
}

impl DocumentType {
    /// Every document type, in canonical order.
    pub const ALL: [DocumentType; 4] = [
        DocumentType::IdFront,
        DocumentType::IdBack,
        DocumentType::Selfie,
        DocumentType::ProofOfAddress,
    ];

    /// The wire name (`id_front`, `id_back`, `selfie`, `proof_of_address`).
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentType::IdFront => "id_front",
            DocumentType::IdBack => "id_back",
            DocumentType::Selfie => "selfie",
            DocumentType::ProofOfAddress => "proof_of_address",
        }
    }

    /// Parses a wire name; exact, case-sensitive match. `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        DocumentType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for DocumentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown document type name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("document_type must be one of id_front, id_back, selfie, proof_of_address; got '{0}'")]
pub struct UnknownDocumentType(pub String);

impl FromStr for DocumentType {
    type Err = UnknownDocumentType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DocumentType::parse(s).ok_or_else(|| UnknownDocumentType(s.to_owned()))
    }
}

/// A file type recognised by [`sniff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SniffedType {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (`89 50 4E 47 0D 0A 1A 0A`).
    Png,
    /// WebP (`RIFF` ‹4-byte size› `WEBP`).
    Webp,
    /// PDF (`%PDF-`).
    Pdf,
}

impl SniffedType {
    /// The MIME type (`image/jpeg`, `image/png`, `image/webp`, `application/pdf`).
    pub fn mime_type(self) -> &'static str {
        match self {
            SniffedType::Jpeg => "image/jpeg",
            SniffedType::Png => "image/png",
            SniffedType::Webp => "image/webp",
            SniffedType::Pdf => "application/pdf",
        }
    }

    /// The canonical file extension, without the dot (`jpg`, `png`, `webp`, `pdf`).
    pub fn extension(self) -> &'static str {
        match self {
            SniffedType::Jpeg => "jpg",
            SniffedType::Png => "png",
            SniffedType::Webp => "webp",
            SniffedType::Pdf => "pdf",
        }
    }
}

const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
const PNG_MAGIC: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
const PDF_MAGIC: &[u8] = b"%PDF-";

/// Detects the file type from its leading magic bytes only. `None` when the bytes are empty,
/// truncated, or of any other type. The declared content type of an upload plays no part.
pub fn sniff(bytes: &[u8]) -> Option<SniffedType> {
    if bytes.starts_with(JPEG_MAGIC) {
        Some(SniffedType::Jpeg)
    } else if bytes.starts_with(PNG_MAGIC) {
        Some(SniffedType::Png)
    } else if bytes.starts_with(PDF_MAGIC) {
        Some(SniffedType::Pdf)
    } else if bytes.get(0..4) == Some(b"RIFF".as_slice())
        && bytes.get(8..12) == Some(b"WEBP".as_slice())
    {
        Some(SniffedType::Webp)
    } else {
        None
    }
}

/// Document kinds whose back side must be uploaded too.
const TWO_SIDED_KINDS: [&str; 2] = ["drivers_license", "national_id"];

/// The documents a session needs before submission (CONTRACT §3): `id_front` always, `id_back`
/// when the selected document kind is `drivers_license` or `national_id`, and `selfie` when the
/// session's workflow contains a `face_match` step. Canonical order, no duplicates.
pub fn required_documents(
    document_kind: Option<&str>,
    workflow_has_face_match: bool,
) -> Vec<DocumentType> {
    let mut required = vec![DocumentType::IdFront];
    if document_kind.is_some_and(|kind| TWO_SIDED_KINDS.contains(&kind)) {
        required.push(DocumentType::IdBack);
    }
    if workflow_has_face_match {
        required.push(DocumentType::Selfie);
    }
    required
}

/// The required documents not among `present`, in the order of `required` (duplicates in
/// `required` are reported once).
pub fn missing_documents(required: &[DocumentType], present: &[DocumentType]) -> Vec<DocumentType> {
    let mut missing: Vec<DocumentType> = Vec::new();
    for t in required {
        if !present.contains(t) && !missing.contains(t) {
            missing.push(*t);
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_type_round_trips() {
        for t in DocumentType::ALL {
            assert_eq!(DocumentType::parse(t.as_str()), Some(t));
            assert_eq!(t.as_str().parse::<DocumentType>(), Ok(t));
            assert_eq!(t.to_string(), t.as_str());
            let json = serde_json::to_string(&t).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
    }

    #[test]
    fn document_type_rejects_unknown() {
        for s in ["", "ID_FRONT", "id-front", "passport", " selfie", "selfie "] {
            assert_eq!(DocumentType::parse(s), None, "{s:?}");
            assert_eq!(
                s.parse::<DocumentType>(),
                Err(UnknownDocumentType(s.to_owned()))
            );
        }
    }

    #[test]
    fn sniff_table() {
        let cases: &[(&str, &[u8], Option<SniffedType>)] = &[
            ("empty", b"", None),
            (
                "jpeg",
                &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F'],
                Some(SniffedType::Jpeg),
            ),
            (
                "jpeg magic only",
                &[0xFF, 0xD8, 0xFF],
                Some(SniffedType::Jpeg),
            ),
            ("jpeg truncated", &[0xFF, 0xD8], None),
            (
                "png",
                b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
                Some(SniffedType::Png),
            ),
            ("png truncated", b"\x89PNG\r\n\x1a", None),
            ("png bad line ending", b"\x89PNG\n\n\x1a\n\0\0", None),
            ("webp", b"RIFF\x24\0\0\0WEBPVP8 ", Some(SniffedType::Webp)),
            (
                "webp header only",
                b"RIFF\0\0\0\0WEBP",
                Some(SniffedType::Webp),
            ),
            ("riff wrong fourcc (wav)", b"RIFF\x24\0\0\0WAVEfmt ", None),
            ("riff wrong fourcc (avi)", b"RIFF\x24\0\0\0AVI LIST", None),
            ("riff fourcc lowercase", b"RIFF\x24\0\0\0webp", None),
            ("riff truncated", b"RIFF\x24\0\0\0WEB", None),
            ("riff only", b"RIFF", None),
            (
                "pdf",
                b"%PDF-1.7\n%\xE2\xE3\xCF\xD3",
                Some(SniffedType::Pdf),
            ),
            ("pdf magic only", b"%PDF-", Some(SniffedType::Pdf)),
            ("polyglot-ish %PD text", b"%PD is not a pdf", None),
            ("%PDF without dash", b"%PDF1.4", None),
            ("pdf after whitespace", b" %PDF-1.4", None),
            ("gif", b"GIF89a\x01\0\x01\0", None),
            ("html", b"<html><body>", None),
            ("text claiming jpeg", b"image/jpeg", None),
            ("single byte", &[0xFF], None),
        ];
        for (name, bytes, want) in cases {
            assert_eq!(sniff(bytes), *want, "{name}");
        }
    }

    #[test]
    fn sniffed_type_mime_and_extension() {
        let cases = [
            (SniffedType::Jpeg, "image/jpeg", "jpg"),
            (SniffedType::Png, "image/png", "png"),
            (SniffedType::Webp, "image/webp", "webp"),
            (SniffedType::Pdf, "application/pdf", "pdf"),
        ];
        for (t, mime, ext) in cases {
            assert_eq!(t.mime_type(), mime);
            assert_eq!(t.extension(), ext);
        }
    }

    #[test]
    fn max_document_bytes_is_ten_mib() {
        assert_eq!(MAX_DOCUMENT_BYTES, 10_485_760);
    }

    #[test]
    fn required_documents_table() {
        use DocumentType::*;
        let cases: &[(Option<&str>, bool, &[DocumentType])] = &[
            (None, false, &[IdFront]),
            (None, true, &[IdFront, Selfie]),
            (Some("passport"), false, &[IdFront]),
            (Some("passport"), true, &[IdFront, Selfie]),
            (Some("residence_permit"), false, &[IdFront]),
            (Some("drivers_license"), false, &[IdFront, IdBack]),
            (Some("drivers_license"), true, &[IdFront, IdBack, Selfie]),
            (Some("national_id"), false, &[IdFront, IdBack]),
            (Some("national_id"), true, &[IdFront, IdBack, Selfie]),
            (Some("NATIONAL_ID"), false, &[IdFront]),
            (Some(""), false, &[IdFront]),
        ];
        for (kind, face, want) in cases {
            assert_eq!(
                required_documents(*kind, *face),
                want.to_vec(),
                "{kind:?} face={face}"
            );
        }
    }

    #[test]
    fn missing_documents_table() {
        use DocumentType::*;
        let cases: &[(&[DocumentType], &[DocumentType], &[DocumentType])] = &[
            (&[IdFront], &[], &[IdFront]),
            (&[IdFront], &[IdFront], &[]),
            (&[IdFront, IdBack, Selfie], &[IdFront], &[IdBack, Selfie]),
            (
                &[IdFront, IdBack, Selfie],
                &[Selfie, ProofOfAddress],
                &[IdFront, IdBack],
            ),
            (&[IdFront, IdBack], &[IdBack, IdFront, Selfie], &[]),
            (&[IdFront, IdFront], &[], &[IdFront]),
            (&[], &[IdFront], &[]),
        ];
        for (required, present, want) in cases {
            assert_eq!(
                missing_documents(required, present),
                want.to_vec(),
                "required={required:?} present={present:?}"
            );
        }
    }
}
