import MoatCore

/// The two wire protocols Moat fronts: what differs between them is kept here.
public enum ModelAPI: String, Sendable {
    case openAI = "chat.completions"
    case anthropic = "messages"

    /// The upstream path this API is forwarded to.
    var path: String { self == .openAI ? "/v1/chat/completions" : "/v1/messages" }

    /// An error body in the API's native shape.
    func errorBody(status: Int, message: String, openAIType: String? = nil, code: String? = nil) -> [UInt8] {
        var j = JSONBuffer(capacity: 256)
        j.beginObject()
        switch self {
        case .anthropic:
            let type: String
            switch status {
            case 400: type = "invalid_request_error"
            case 401: type = "authentication_error"
            case 403: type = "permission_error"
            case 404: type = "not_found_error"
            case 413: type = "request_too_large"
            case 429: type = "rate_limit_error"
            case 504: type = "timeout_error"
            case 529: type = "overloaded_error"
            default: type = "api_error"
            }
            j.key("type"); j.string("error")
            j.key("error"); j.beginObject()
            j.key("type"); j.string(type)
            j.key("message"); j.string(message)
            j.endObject()
        case .openAI:
            let type: String
            let defaultCode: String?
            switch status {
            case 401: type = "invalid_request_error"; defaultCode = "invalid_api_key"
            case 403: type = "permission_error"; defaultCode = "access_denied"
            case 404: type = "invalid_request_error"; defaultCode = "not_found"
            case 413: type = "invalid_request_error"; defaultCode = "request_too_large"
            case 429: type = "requests"; defaultCode = "rate_limit_exceeded"
            case 400..<500: type = "invalid_request_error"; defaultCode = nil
            default: type = "server_error"; defaultCode = nil
            }
            j.key("error"); j.beginObject()
            j.key("code")
            if let c = code ?? defaultCode { j.string(c) } else { j.null() }
            j.key("message"); j.string(message)
            j.key("param"); j.null()
            j.key("type"); j.string(openAIType ?? type)
            j.endObject()
        }
        j.endObject()
        return j.bytes
    }
}
