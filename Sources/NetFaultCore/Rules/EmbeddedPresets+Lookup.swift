extension EmbeddedPresets {
    /// The preset whose name is nearest to `name` (a misspelling), if one is close.
    public static func closest(to name: String) -> String? {
        RuleFileReader.closest(to: name, among: all.map(\.name))
    }
}
