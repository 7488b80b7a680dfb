/// A JSON document built in code and written with its keys in the order given: the report's keys
/// are a documented contract, so they are spelled out, never derived from Swift property names,
/// and an absent value is written as `null` rather than left out.
public enum JSONValue: Sendable {
    case string(String)
    case integer(Int64)
    case unsigned(UInt64)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func optional<T>(_ value: T?, _ wrap: (T) -> JSONValue) -> JSONValue { value.map(wrap) ?? .null }

    /// Two-space indented text.
    public func rendered(indent: String = "") -> String {
        ReportWriter.text { writer in write(to: &writer, indent: indent) }
    }

    /// Writes the two-space indented text to `writer`, as it goes: `indent` is the indentation
    /// of the line the value starts on.
    func write<Failure>(to writer: inout ReportWriter<Failure>, indent: String) throws(Failure) {
        switch self {
        case .string(let text): try writer.writeJSONString(text)
        case .integer(let value): try writer.write(String(value))
        case .unsigned(let value): try writer.write(String(value))
        case .number(let value): try writer.write(Self.number(value))
        case .bool(let value): try writer.write(value ? "true" : "false")
        case .null: try writer.write("null")
        case .array(let items):
            guard !items.isEmpty else { return try writer.write("[]") }
            let inner = indent + "  "
            try writer.write("[\n")
            for (index, item) in items.enumerated() {
                if index > 0 { try writer.write(",\n") }
                try writer.write(inner)
                try item.write(to: &writer, indent: inner)
            }
            try writer.write("\n")
            try writer.write(indent)
            try writer.write("]")
        case .object(let members):
            guard !members.isEmpty else { return try writer.write("{}") }
            let inner = indent + "  "
            try writer.write("{\n")
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { try writer.write(",\n") }
                try writer.write(inner)
                try writer.writeJSONString(key)
                try writer.write(": ")
                try value.write(to: &writer, indent: inner)
            }
            try writer.write("\n")
            try writer.write(indent)
            try writer.write("}")
        }
    }

    /// A number as JSON writes it: whole numbers without a fraction, and `null` for what JSON cannot hold.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
