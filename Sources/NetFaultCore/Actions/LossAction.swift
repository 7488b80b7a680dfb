import Yams

extension Action {
    /// `{loss: {model: gilbert-elliott, p: 1%, r: 30%, h: 0%, k: 100%}}` or
    /// `{loss: {model: 4-state, p13: 1%, p31: 90%, p32: 5%, p23: 50%, p14: 0.5%}}`: bursty loss, as
    /// tc netem's `loss gemodel` and `loss state`. The rule's matching packets walk the model's
    /// chain (one chain per rule, seeded like everything else); a packet the model loses is
    /// dropped, and one it spares goes on to the later rules, as a packet that loses a
    /// `probability` roll does.
    public struct Loss: ActionUnit {
        static let kind = Kind.loss
        /// None of its own: it rolls (`Action.roll`), and a rule that rolls sees segments.
        static let needs: ActionNeeds = []
        static let settingUsage: String? = "a loss model: {loss: {model: gilbert-elliott, p: 1%, r: 30%, h: 0%, k: 100%}}"
        static let companionKeys: [String] = []

        public var model: LossModel

        public init(_ model: LossModel) { self.model = model }

        /// The models' names and parameters, with netem's defaults for those left out (`gemodel p`
        /// alone is p, r = 1 - p, h = 0, k = 1; `state p13` alone is p31 = 1 - p13, p32 = 0,
        /// p23 = 1, p14 = 0).
        static let models: [(name: String, required: [String], optional: [String])] = [
            ("gilbert-elliott", ["p"], ["r", "h", "k"]),
            ("4-state", ["p13"], ["p31", "p32", "p23", "p14"]),
        ]

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> Loss? {
            guard let setting = reader.requiredSetting(setting, reading, kind) else { return nil }
            let path = reading.path
            let allKeys = ["model"] + models.flatMap { $0.required + $0.optional }
            guard let entries = reader.mapping(setting, path, allowed: allKeys, what: "a loss model") else { return nil }
            let values = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            guard let modelNode = values["model"] else {
                reader.error(setting, path, "needs a model: \(models.map(\.name).joined(separator: " or "))")
                return nil
            }
            guard let name = reader.scalar(modelNode, "\(path).model", expected: "a loss model") else { return nil }
            guard let model = models.first(where: { $0.name == name }) else {
                reader.error(modelNode, "\(path).model", "'\(RuleFileReader.excerpt(name))' is not a loss model; use \(models.map(\.name).joined(separator: " or "))")
                return nil
            }
            var shares: [String: Double] = [:]
            var valid = true
            for (key, node) in values where key != "model" {
                guard model.required.contains(key) || model.optional.contains(key) else {
                    reader.error(node, "\(path).\(key)", "is not a parameter of \(model.name); it takes \((model.required + model.optional).joined(separator: ", "))")
                    valid = false
                    continue
                }
                if let share = reader.percentage(node, "\(path).\(key)") { shares[key] = share } else { valid = false }
            }
            for key in model.required where values[key] == nil {
                reader.error(setting, path, "\(model.name) needs \(key)")
                valid = false
            }
            guard valid else { return nil }
            if model.name == "gilbert-elliott" {
                let p = shares["p"]!
                return Loss(.gilbertElliott(p: p, r: shares["r"] ?? 1 - p, h: shares["h"] ?? 0, k: shares["k"] ?? 1))
            }
            let p13 = shares["p13"]!, p14 = shares["p14"] ?? 0, p31 = shares["p31"] ?? 1 - p13, p32 = shares["p32"] ?? 0
            // Each state's ways out are shares of one roll: they cannot add up to more than all.
            for (sum, keys) in [(p13 + p14, "p13 + p14"), (p31 + p32, "p31 + p32")] where sum > 1 {
                reader.error(setting, path, "\(keys) is \(Units.percentText(sum)): the chances of leaving a state add up to at most 100%")
                return nil
            }
            return Loss(.fourState(p13: p13, p31: p31, p32: p32, p23: shares["p23"] ?? 1, p14: p14))
        }

        var action: Action { .loss(self) }

        public var summary: String { "drop as the loss model \(model.summary) says (the spared go on to later rules)" }

        /// The model rolled when the rule was matched (`Engine.matches`): the packet here is lost.
        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision { Decision(.drop) }
    }
}
