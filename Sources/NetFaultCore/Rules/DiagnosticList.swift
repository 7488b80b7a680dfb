/// The problems found reading one rule file: the first `listed` errors and the first `listed`
/// warnings in file order, and how many more of each there were.
///
/// A file of 90 000 unknown keys is one screen of errors, not 12 MB of them, and the message of a
/// problem that will not be listed is never written (messages are autoclosures): the cost of a
/// hostile file stays that of reading it.
struct DiagnosticList {
    /// How many errors, and how many warnings, are listed.
    static let listed = 20

    let file: String
    /// Every error and warning reported, listed or not.
    private(set) var errorCount = 0
    private(set) var warningCount = 0
    private var errorsKept = Kept()
    private var warningsKept = Kept()
    /// How many problems were reported: of two at the same place, the first reported is listed first.
    private var reported = 0

    init(file: String) { self.file = file }

    /// The listed errors, in file order.
    var errors: [RuleFileDiagnostic] { errorsKept.items.map(\.diagnostic) }
    /// The listed warnings, in file order.
    var warnings: [RuleFileDiagnostic] { warningsKept.items.map(\.diagnostic) }
    var unlistedErrors: Int { errorCount - errorsKept.items.count }
    var unlistedWarnings: Int { warningCount - warningsKept.items.count }

    mutating func report(_ severity: RuleFileDiagnostic.Severity, line: Int, column: Int,
                         path: @autoclosure () -> String, message: @autoclosure () -> String) {
        let place = Place(line: line, column: column, order: reported)
        reported += 1
        switch severity {
        case .error: errorCount += 1
        case .warning: warningCount += 1
        }
        guard severity == .error ? errorsKept.accepts(place) : warningsKept.accepts(place) else { return }
        let diagnostic = RuleFileDiagnostic(severity, file: file, line: line, column: column, path: path(), message: message())
        switch severity {
        case .error: errorsKept.insert(diagnostic, at: place)
        case .warning: warningsKept.insert(diagnostic, at: place)
        }
    }

    /// Where a problem is, for sorting: the line and column, then the order reported.
    private struct Place: Comparable {
        var line: Int
        var column: Int
        var order: Int

        static func < (lhs: Place, rhs: Place) -> Bool {
            (lhs.line, lhs.column, lhs.order) < (rhs.line, rhs.column, rhs.order)
        }
    }

    /// The first `listed` problems by place, sorted.
    private struct Kept {
        var items: [(place: Place, diagnostic: RuleFileDiagnostic)] = []

        /// Whether a problem at `place` is among the first so far (its message is worth making).
        func accepts(_ place: Place) -> Bool {
            guard items.count == DiagnosticList.listed, let last = items.last else { return true }
            return place < last.place
        }

        mutating func insert(_ diagnostic: RuleFileDiagnostic, at place: Place) {
            // Problems are mostly reported in file order: the search from the end is short.
            let position = items.lastIndex { $0.place < place }.map { $0 + 1 } ?? 0
            items.insert((place, diagnostic), at: position)
            if items.count > DiagnosticList.listed { items.removeLast() }
        }
    }
}
