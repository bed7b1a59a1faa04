//! JSON errors. Every error body is
//! `{"ok": false, "error": CODE, "definite": BOOL, "message": TEXT, ...}` where `definite: true`
//! means the request certainly did not change state and `false` means it may have.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::raft::{Node, ReadError, WriteError};
use crate::state_machine::Value;

/// The leader a non-leader believes in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaderHint {
    pub id: u64,
    pub addr: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("this node is not the leader")]
    NotLeader { leader: Option<LeaderHint> },
    #[error("compare-and-set found another value")]
    CasMismatch { current: Option<Value> },
    #[error("the operation does not fit the stored value")]
    TypeMismatch { current: Value },
    #[error("the write did not commit in time; it may or may not take effect")]
    Timeout,
    #[error("leadership was lost before the write committed; it may or may not take effect")]
    LeadershipLost,
    #[error("could not confirm leadership in time to serve the read")]
    ReadTimeout,
    #[error("{message}")]
    Rejected {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("this node is isolated from its peers (POST /admin/isolate)")]
    Isolated,
    #[error("no such route")]
    NotFound,
    #[error("method not allowed on this route")]
    MethodNotAllowed,
}

impl ApiError {
    pub fn not_leader(node: &Node, leader: Option<u64>) -> Self {
        let leader = leader.map(|id| LeaderHint {
            id,
            addr: node.cfg.peer_addr(id).map(|a| a.to_string()),
        });
        ApiError::NotLeader { leader }
    }

    pub fn from_write(node: &Node, e: WriteError) -> Self {
        match e {
            WriteError::NotLeader { leader } => Self::not_leader(node, leader),
            WriteError::LeadershipLost => ApiError::LeadershipLost,
            WriteError::Timeout => ApiError::Timeout,
        }
    }

    pub fn from_read(node: &Node, e: ReadError) -> Self {
        match e {
            ReadError::NotLeader { leader } => Self::not_leader(node, leader),
            ReadError::Timeout => ApiError::ReadTimeout,
        }
    }

    fn from_rejection(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNPROCESSABLE_ENTITY => "invalid_request",
            _ => "malformed_json",
        };
        // axum answers 422 for well-formed JSON of the wrong shape, 400 for broken JSON.
        let status = if status.is_client_error() {
            status
        } else {
            StatusCode::BAD_REQUEST
        };
        ApiError::Rejected {
            status,
            code,
            message: rejection.body_text(),
        }
    }

    /// HTTP status, error code and whether the request certainly did not change state.
    fn parts(&self) -> (StatusCode, &'static str, bool) {
        match self {
            ApiError::NotLeader { .. } => (StatusCode::SERVICE_UNAVAILABLE, "not_leader", true),
            ApiError::CasMismatch { .. } => (StatusCode::CONFLICT, "cas_mismatch", true),
            ApiError::TypeMismatch { .. } => (StatusCode::CONFLICT, "type_mismatch", true),
            ApiError::Timeout => (StatusCode::GATEWAY_TIMEOUT, "timeout", false),
            ApiError::LeadershipLost => (StatusCode::SERVICE_UNAVAILABLE, "leadership_lost", false),
            ApiError::ReadTimeout => (StatusCode::SERVICE_UNAVAILABLE, "read_timeout", true),
            ApiError::Rejected { status, code, .. } => (*status, code, true),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", true),
            ApiError::Isolated => (StatusCode::SERVICE_UNAVAILABLE, "isolated", true),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", true),
            ApiError::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", true)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, definite) = self.parts();
        let mut body = json!({
            "ok": false,
            "error": code,
            "definite": definite,
            "message": self.to_string(),
        });
        match &self {
            ApiError::NotLeader { leader } => body["leader"] = json!(leader),
            ApiError::CasMismatch { current } => body["value"] = json!(current),
            ApiError::TypeMismatch { current } => body["value"] = json!(current),
            _ => {}
        }
        (status, Json(body)).into_response()
    }
}

/// `Json<T>` whose rejections are JSON errors.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError::from_rejection(rejection)),
        }
    }
}
