/// Left-aligned columns for the terminal: each as wide as its widest cell, two spaces apart.
/// Written in two passes, so that no row is held: every row is measured, then each is made
/// again and written as a line.
struct TextTable {
    private var widths: [Int]

    init(_ header: [String]) { widths = header.map(\.count) }

    /// Widens the columns to fit `row`.
    mutating func measure(_ row: [String]) {
        for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
    }

    /// `row` (the header, or a row measured) as a line indented by `indent`, without trailing spaces.
    func line(_ row: [String], indent: String = "  ") -> String {
        var line = indent
        for (column, cell) in row.enumerated() {
            line += cell
            if column < row.count - 1 { line += String(repeating: " ", count: widths[column] - cell.count + 2) }
        }
        while line.hasSuffix(" ") { line.removeLast() }
        return line
    }
}
