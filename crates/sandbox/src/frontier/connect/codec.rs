//! The unary Connect codecs Frontier's handlers are built with: connect-go's
//! `proto` (binary) and `json; charset=utf-8` (stock protojson, camelCase
//! names), and Frontier's own `json` (`UseProtoNames`, every read failure
//! reported as `error not proto`). Requests decode into the JSON model's
//! types and answers encode from the store's checkouts, so the handlers are
//! the same whatever the codec.

use axum::http::{header, HeaderMap};
use prost::Message;
use serde::de::DeserializeOwned;

use super::error::ConnectError;
use crate::frontier::model::{
    CreateCheckoutRequest, GetCheckoutRequest, ListCheckoutsRequest, Session, SessionResponse,
    SessionsResponse, Style,
};
use crate::frontier::proto;
use crate::frontier::store::StoredCheckout;

/// `Accept-Post` on a 415: the unary Connect content types, sorted.
/// connect-go would also list the gRPC and gRPC-Web ones, which the
/// sandbox does not serve.
pub const ACCEPT_POST: &str =
    "application/json, application/json; charset=utf-8, application/proto";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// `application/json`: Frontier's codec.
    Json,
    /// `application/json; charset=utf-8`: connect-go's stock JSON codec.
    JsonUtf8,
    /// `application/proto`.
    Proto,
}

impl Codec {
    /// The codec a request's `Content-Type` names, once canonical; `None`
    /// is a 415.
    pub fn of(headers: &HeaderMap) -> Option<Codec> {
        let raw = headers
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()))
            .unwrap_or_default();
        match canonical_content_type(&raw).as_str() {
            "application/json" => Some(Codec::Json),
            "application/json; charset=utf-8" => Some(Codec::JsonUtf8),
            "application/proto" => Some(Codec::Proto),
            _ => None,
        }
    }

    /// The answer's `Content-Type`: the request's, canonical.
    pub fn content_type(self) -> &'static str {
        match self {
            Codec::Json => "application/json",
            Codec::JsonUtf8 => "application/json; charset=utf-8",
            Codec::Proto => "application/proto",
        }
    }

    /// connect-go's `unmarshal message: …` errors around each codec's own.
    pub fn decode<R: Request>(self, body: &[u8]) -> Result<R, ConnectError> {
        let unmarshal = |detail: &dyn std::fmt::Display| {
            ConnectError::new("invalid_argument", format!("unmarshal message: {detail}"))
        };
        match self {
            // protobuf-go reports every malformed input alike (it names the
            // field only for invalid UTF-8, where this says the same as for
            // the rest), and keeps a known field sent with the wrong wire
            // type as unknown where prost refuses it. Its `proto:` prefix
            // takes a regular or a non-breaking space, fixed per binary.
            Codec::Proto => R::Proto::decode(body).map(Into::into).map_err(|_| {
                unmarshal(&format_args!(
                    "unmarshal into {}: proto: cannot parse invalid wire-format data",
                    R::GO_TYPE
                ))
            }),
            Codec::Json | Codec::JsonUtf8 if body.is_empty() => {
                Err(unmarshal(&"zero-length payload is not a valid JSON object"))
            }
            Codec::Json => serde_json::from_slice(body).map_err(|_| unmarshal(&"error not proto")),
            // protojson's own detail (`(line 1:15): invalid value for bool
            // field …`) is not reproduced: serde's says the same in its words.
            Codec::JsonUtf8 => serde_json::from_slice(body)
                .map_err(|e| unmarshal(&format_args!("unmarshal into {}: proto: {e}", R::GO_TYPE))),
        }
    }

    /// The response message, uncompressed.
    pub fn encode(self, answer: &Answer) -> Result<Vec<u8>, ConnectError> {
        let style = match self {
            Codec::Proto => return Ok(answer.to_proto()),
            Codec::Json => Style::Connect,
            Codec::JsonUtf8 => Style::ConnectCamel,
        };
        let session = |checkout| SessionResponse {
            checkout_session: Session { checkout, style },
        };
        match answer {
            Answer::Created(c) | Answer::Got(c) => serde_json::to_vec(&session(c)),
            Answer::Listed(cs) => serde_json::to_vec(&SessionsResponse::new(cs, style)),
        }
        .map_err(|e| ConnectError::new("internal", format!("marshal message: {e}")))
    }
}

/// A request message, read by every codec into the one model type.
pub trait Request: DeserializeOwned {
    type Proto: Message + Default + Into<Self>;
    /// The Go type connect-go's proto codecs name in unmarshal errors.
    const GO_TYPE: &'static str;
}

impl Request for CreateCheckoutRequest {
    type Proto = proto::CreateCheckoutRequest;
    const GO_TYPE: &'static str = "*frontierv1beta1.CreateCheckoutRequest";
}

impl Request for GetCheckoutRequest {
    type Proto = proto::GetCheckoutRequest;
    const GO_TYPE: &'static str = "*frontierv1beta1.GetCheckoutRequest";
}

impl Request for ListCheckoutsRequest {
    type Proto = proto::ListCheckoutsRequest;
    const GO_TYPE: &'static str = "*frontierv1beta1.ListCheckoutsRequest";
}

/// What a handler answers, before a codec writes it.
#[derive(Debug)]
pub enum Answer {
    Created(StoredCheckout),
    Got(StoredCheckout),
    Listed(Vec<StoredCheckout>),
}

impl Answer {
    fn to_proto(&self) -> Vec<u8> {
        match self {
            Answer::Created(c) => proto::CreateCheckoutResponse {
                checkout_session: Some(c.into()),
            }
            .encode_to_vec(),
            Answer::Got(c) => proto::GetCheckoutResponse {
                checkout_session: Some(c.into()),
            }
            .encode_to_vec(),
            Answer::Listed(cs) => proto::ListCheckoutsResponse {
                checkout_sessions: cs.iter().map(Into::into).collect(),
            }
            .encode_to_vec(),
        }
    }
}

/// connect-go's `canonicalizeContentType`: Go's `mime.ParseMediaType` then
/// `FormatMediaType`, so the type and parameter names are lowercase, the
/// `charset` value too, parameters sorted, `; ` between them. What does not
/// parse stays as sent (and matches no codec).
fn canonical_content_type(raw: &str) -> String {
    let mut parts = raw.split(';');
    let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let mut params: Vec<(String, String)> = Vec::new();
    for part in parts.map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = part.split_once('=') else {
            return raw.to_owned();
        };
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        let value = if name == "charset" {
            value.to_ascii_lowercase()
        } else {
            value.to_owned()
        };
        if name.is_empty() || params.iter().any(|(n, _)| *n == name) {
            return raw.to_owned();
        }
        params.push((name, value));
    }
    params.sort();
    params
        .into_iter()
        .fold(media, |out, (name, value)| format!("{out}; {name}={value}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn codec(content_type: &'static str) -> Option<Codec> {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        Codec::of(&headers)
    }

    #[test]
    fn content_types_are_canonicalised_like_connect_go() {
        assert_eq!(codec("application/json"), Some(Codec::Json));
        assert_eq!(codec("Application/JSON "), Some(Codec::Json));
        assert_eq!(codec("application/json;"), Some(Codec::Json));
        assert_eq!(
            codec("application/json;charset=UTF-8"),
            Some(Codec::JsonUtf8)
        );
        assert_eq!(
            codec("application/json; charset=\"utf-8\""),
            Some(Codec::JsonUtf8)
        );
        assert_eq!(codec("application/proto"), Some(Codec::Proto));
        for refused in [
            "application/json; charset=latin1",
            "application/json; charset=utf-8; x=y",
            "application/json; charset",
            "application/x-protobuf",
            "application/grpc",
            "application/connect+proto",
            "text/plain",
        ] {
            assert_eq!(codec(refused), None, "{refused}");
        }
        assert_eq!(Codec::of(&HeaderMap::new()), None);
    }

    #[test]
    fn each_codec_reads_the_same_request() {
        let wire = proto::GetCheckoutRequest { id: "c1".into() }.encode_to_vec();
        let from_proto: GetCheckoutRequest = Codec::Proto.decode(&wire).expect("proto");
        let from_json: GetCheckoutRequest = Codec::Json.decode(br#"{"id":"c1"}"#).expect("json");
        assert_eq!(
            (from_proto.id.as_str(), from_json.id.as_str()),
            ("c1", "c1")
        );
        let empty: GetCheckoutRequest = Codec::Proto.decode(b"").expect("empty is the default");
        assert_eq!(empty.id, "");
        let err = Codec::Proto
            .decode::<GetCheckoutRequest>(&[0x1a, 9, b'c'])
            .unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                "invalid_argument",
                "unmarshal message: unmarshal into *frontierv1beta1.GetCheckoutRequest: proto: cannot parse invalid wire-format data"
            )
        );
        let err = Codec::Json.decode::<GetCheckoutRequest>(b"{").unwrap_err();
        assert_eq!(err.message, "unmarshal message: error not proto");
        let err = Codec::JsonUtf8
            .decode::<GetCheckoutRequest>(b"{")
            .unwrap_err();
        assert!(err.message.starts_with(
            "unmarshal message: unmarshal into *frontierv1beta1.GetCheckoutRequest: proto: "
        ));
        let err = Codec::JsonUtf8
            .decode::<GetCheckoutRequest>(b"")
            .unwrap_err();
        assert_eq!(
            err.message,
            "unmarshal message: zero-length payload is not a valid JSON object"
        );
    }
}
