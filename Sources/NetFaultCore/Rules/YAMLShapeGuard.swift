import CYaml

/// Limits that keep a hostile rule file from costing more than a fraction of a second and a few MB.
///
/// The checks run on libyaml's event stream, before Yams composes a tree: libyaml's parser keeps its
/// own stacks, so no input makes it recurse, while Yams' composer recurses per nesting level and
/// hashes every mapping key in full, aliases expanded. An alias used as a key in a "billion laughs"
/// file would cost minutes there; here it is refused after reading the file once.
enum YAMLShapeGuard {
    static let maximumFileSize = 1 << 20
    static let maximumDepth = 32
    /// Nodes in the document with every alias counted as the size of what it names.
    static let maximumNodes = 200_000

    enum Violation: Error, Equatable {
        case tooDeep(line: Int, column: Int, depth: Int)
        case tooManyNodes(line: Int, column: Int)
        case complexKey(line: Int, column: Int)
    }

    /// Walks the events of `text`. Syntax errors are left for the composer, which reports them with
    /// more context; this only stops at the first limit crossed.
    static func check(_ text: String) throws(Violation) {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        try bytes.withUnsafeMutableBufferPointer { (buffer) throws(Violation) in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var walk = EventWalk()
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    // libyaml's scanner looks ahead and has its own nesting cap (1000); meeting it
                    // means the text is far deeper than ours.
                    if let problem = parser.problem, String(cString: problem).contains("nesting level") {
                        let mark = parser.problem_mark
                        throw .tooDeep(line: Int(mark.line) + 1, column: Int(mark.column) + 1, depth: 1000)
                    }
                    return
                }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return }
                try walk.take(event)
            }
        }
    }

    /// The open collections and the expanded size of every anchor seen so far.
    private struct EventWalk {
        struct Open {
            var nodes = 1
            var isMapping: Bool
            /// Children so far; in a mapping, even counts mean the next child is a key.
            var children = 0
            var anchor: String?
        }

        var stack: [Open] = []
        var anchorSizes: [String: Int] = [:]
        var total = 0

        mutating func take(_ event: yaml_event_t) throws(Violation) {
            let line = Int(event.start_mark.line) + 1
            let column = Int(event.start_mark.column) + 1
            switch event.type {
            case YAML_SCALAR_EVENT:
                try addChild(size: 1, isCollection: false, line: line, column: column)
                if let anchor = name(event.data.scalar.anchor) { anchorSizes[anchor] = 1 }
            case YAML_ALIAS_EVENT:
                let size = name(event.data.alias.anchor).flatMap { anchorSizes[$0] } ?? 1
                try addChild(size: size, isCollection: size > 1, line: line, column: column)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                try addChild(size: 0, isCollection: true, line: line, column: column)
                let isMapping = event.type == YAML_MAPPING_START_EVENT
                let anchor = isMapping ? name(event.data.mapping_start.anchor) : name(event.data.sequence_start.anchor)
                stack.append(Open(isMapping: isMapping, anchor: anchor))
                try count(1, line: line, column: column)
                if stack.count > maximumDepth { throw .tooDeep(line: line, column: column, depth: stack.count) }
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let closed = stack.popLast() else { return }
                if let anchor = closed.anchor { anchorSizes[anchor] = closed.nodes }
                if !stack.isEmpty { stack[stack.count - 1].nodes += closed.nodes }
            default:
                break
            }
        }

        /// Accounts for a node inside the innermost open collection (nodes of a new collection are
        /// counted as its events arrive).
        private mutating func addChild(size: Int, isCollection: Bool, line: Int, column: Int) throws(Violation) {
            guard !stack.isEmpty else {
                try count(size, line: line, column: column)
                return
            }
            let parent = stack.count - 1
            if stack[parent].isMapping, stack[parent].children % 2 == 0, isCollection {
                throw .complexKey(line: line, column: column)
            }
            stack[parent].children += 1
            stack[parent].nodes += size
            try count(size, line: line, column: column)
        }

        private mutating func count(_ size: Int, line: Int, column: Int) throws(Violation) {
            total += size
            if total > maximumNodes { throw .tooManyNodes(line: line, column: column) }
        }

        private func name(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
        }
    }
}
