/// Dropping the filters another filter covers, without comparing every pair: a rule file of 18 000
/// rules makes 36 000 filters, and comparing each with each took 18 s of `netfault check`.
///
/// What covers a filter has its protocol, its family or none, each address nil or the filter's own
/// cut to a prefix as long or shorter, and port ranges that contain the filter's. So the filters
/// are indexed by protocol, family and addresses, and for each filter only the index entries of
/// those generalizations are looked at: nil, and its address cut to each prefix length that field
/// uses somewhere in the rule set. Within an entry, port ranges are found in sorted lists.
///
/// A search that would visit more than `searchLimit` entries and ranges (rule sets built to nest
/// thousands of addresses and ranges in one another) stops and keeps its filter: a filter kept
/// needlessly diverts only what another already diverts. A filter is dropped only when a filter
/// that covers it was found, and covering is transitive, so what the plan diverts never changes.
extension DiversionPlan {
    /// How many index entries and port ranges the search for one filter's coverer may visit;
    /// rule files people write need a few dozen at most.
    static let searchLimit = 256

    /// `filters`, no two of which take the same packets, without those another of them covers, in their order.
    static func uncovered(_ filters: [Filter], searchLimit: Int = searchLimit) -> [Filter] {
        let index = FilterIndex(filters.map(\.normalized))
        return filters.indices.filter { !index.isCovered(at: $0, searchLimit: searchLimit) }.map { filters[$0] }
    }
}

extension DiversionPlan.Filter {
    /// The same filter with addresses as their networks: `198.18.1.7/24` as `198.18.1.0/24`, which takes the same packets.
    var normalized: Self {
        var filter = self
        filter.source = source?.normalized
        filter.destination = destination?.normalized
        return filter
    }
}

extension CIDR {
    /// The same block without the memory of host bits in its text.
    var normalized: CIDR { hadHostBits ? CIDR(network: network, prefixLength: prefixLength) : self }

    /// The block of `prefixLength` (at most this one's) that contains this one.
    func widened(to prefixLength: Int) -> CIDR { CIDR(network: network, prefixLength: prefixLength).normalized }
}

/// Filters by protocol, family and addresses; within an entry, by ports.
private struct FilterIndex {
    struct Addresses: Hashable {
        var transport: Transport
        var family: IPAddress.Family?
        var source: CIDR?
    }

    let filters: [DiversionPlan.Filter]
    /// By protocol, family and source, then destination.
    private var entries: [Addresses: [CIDR?: PortIndex]] = [:]
    /// The prefix lengths sources (destinations) use, per family, shortest first.
    private var sourceLengths: [IPAddress.Family: [Int]] = [:]
    private var destinationLengths: [IPAddress.Family: [Int]] = [:]

    /// `filters` must be normalized and distinct.
    init(_ filters: [DiversionPlan.Filter]) {
        self.filters = filters
        var ports: [Addresses: [CIDR?: [(source: PortRange?, destination: PortRange?)]]] = [:]
        var sourceLengths: [IPAddress.Family: Set<Int>] = [:]
        var destinationLengths: [IPAddress.Family: Set<Int>] = [:]
        for filter in filters {
            let addresses = Addresses(transport: filter.transport, family: filter.family, source: filter.source)
            ports[addresses, default: [:]][filter.destination, default: []].append((filter.sourcePorts, filter.destinationPorts))
            if let source = filter.source { sourceLengths[source.family, default: []].insert(source.prefixLength) }
            if let destination = filter.destination { destinationLengths[destination.family, default: []].insert(destination.prefixLength) }
        }
        entries = ports.mapValues { $0.mapValues(PortIndex.init) }
        self.sourceLengths = sourceLengths.mapValues { $0.sorted() }
        self.destinationLengths = destinationLengths.mapValues { $0.sorted() }
    }

    /// Whether another filter covers `filters[position]`, as far as a search of `searchLimit` steps finds.
    func isCovered(at position: Int, searchLimit: Int) -> Bool {
        let filter = filters[position]
        var budget = searchLimit
        // The widest first: what covers many filters is found early.
        let families: [IPAddress.Family?] = filter.family.map { [nil, $0] } ?? [nil]
        let sources = Self.generalizations(of: filter.source, lengths: sourceLengths)
        let destinations = Self.generalizations(of: filter.destination, lengths: destinationLengths)
        for family in families {
            for source in sources {
                budget -= 1
                if budget <= 0 { return false }
                guard let byDestination = entries[Addresses(transport: filter.transport, family: family, source: source)] else { continue }
                for destination in destinations {
                    budget -= 1
                    if budget <= 0 { return false }
                    guard let ports = byDestination[destination] else { continue }
                    let isOwn = family == filter.family && source == filter.source && destination == filter.destination
                    if ports.covers(source: filter.sourcePorts, destination: filter.destinationPorts, isOwnEntry: isOwn, budget: &budget) {
                        return true
                    }
                    if budget <= 0 { return false }
                }
            }
        }
        return false
    }

    /// nil, then `cidr` widened to each prefix length in `lengths` up to its own, shortest first.
    private static func generalizations(of cidr: CIDR?, lengths: [IPAddress.Family: [Int]]) -> [CIDR?] {
        guard let cidr else { return [nil] }
        let shorter = (lengths[cidr.family] ?? []).prefix { $0 <= cidr.prefixLength }
        return [nil] + shorter.map { cidr.widened(to: $0) }
    }
}

/// The port ranges of the filters of one index entry (one protocol, family and pair of addresses).
private struct PortIndex {
    /// A filter with no ports covers every other of its entry.
    private var hasPortless = false
    /// The destination ranges of filters with no source ports, and the reverse.
    private var destinationOnly: RangeIndex
    private var sourceOnly: RangeIndex
    /// Filters with both: the destination ranges by source range.
    private var both: [PortRange: RangeIndex]
    /// The entries of `both` whose source range is wider than one port, by lower end.
    private var wideSources: [(source: PortRange, destinations: RangeIndex)]

    init(_ pairs: [(source: PortRange?, destination: PortRange?)]) {
        var destinationOnly: [PortRange] = [], sourceOnly: [PortRange] = []
        var both: [PortRange: [PortRange]] = [:]
        for pair in pairs {
            switch (pair.source, pair.destination) {
            case (nil, nil): hasPortless = true
            case (nil, let destination?): destinationOnly.append(destination)
            case (let source?, nil): sourceOnly.append(source)
            case (let source?, let destination?): both[source, default: []].append(destination)
            }
        }
        self.destinationOnly = RangeIndex(destinationOnly)
        self.sourceOnly = RangeIndex(sourceOnly)
        self.both = both.mapValues(RangeIndex.init)
        wideSources = self.both.filter { $0.key.lower < $0.key.upper }.map { (source: $0.key, destinations: $0.value) }
            .sorted { ($0.source.lower, $0.source.upper) < ($1.source.lower, $1.source.upper) }
    }

    /// Whether a filter of this entry takes every packet with ports `source` and `destination`;
    /// when the entry is the filter's own (`isOwnEntry`), a filter other than the one with exactly these ports.
    func covers(source: PortRange?, destination: PortRange?, isOwnEntry: Bool, budget: inout Int) -> Bool {
        budget -= 1
        switch (source, destination) {
        case (nil, nil):
            return hasPortless && !isOwnEntry
        case (nil, let destination?):
            return hasPortless || destinationOnly.contains(destination, excludingItself: isOwnEntry)
        case (let source?, nil):
            return hasPortless || sourceOnly.contains(source, excludingItself: isOwnEntry)
        case (let source?, let destination?):
            if hasPortless || destinationOnly.contains(destination, excludingItself: false)
                || sourceOnly.contains(source, excludingItself: false) {
                return true
            }
            if source.lower == source.upper, let ranges = both[source],
               ranges.contains(destination, excludingItself: isOwnEntry) {
                return true
            }
            for wide in wideSources {
                guard wide.source.lower <= source.lower else { break }
                budget -= 1
                if budget <= 0 { return false }
                if wide.source.upper >= source.upper,
                   wide.destinations.contains(destination, excludingItself: isOwnEntry && wide.source == source) {
                    return true
                }
            }
            return false
        }
    }
}

/// Distinct port ranges, sorted, answering which contain a given range.
private struct RangeIndex {
    /// Sorted by lower end, then upper end.
    private let ranges: [PortRange]
    /// The highest upper end among `ranges[...i]`.
    private let highestUpper: [UInt16]

    init(_ ranges: [PortRange]) {
        self.ranges = ranges.sorted { ($0.lower, $0.upper) < ($1.lower, $1.upper) }
        var highest: UInt16 = 0
        highestUpper = self.ranges.map { range in
            highest = max(highest, range.upper)
            return highest
        }
    }

    /// Whether one of the ranges contains `range`; with `excludingItself`, one other than `range`.
    func contains(_ range: PortRange, excludingItself: Bool) -> Bool {
        let startingAt = firstIndex { $0.lower >= range.lower }
        if startingAt > 0, highestUpper[startingAt - 1] >= range.upper { return true }
        let startingAfter = firstIndex { $0.lower > range.lower }
        guard startingAfter > startingAt else { return false }
        // The widest range starting where `range` starts.
        let widest = ranges[startingAfter - 1].upper
        return excludingItself ? widest > range.upper : widest >= range.upper
    }

    /// The first index where `isPast` holds (it holds from there on), by binary search.
    private func firstIndex(where isPast: (PortRange) -> Bool) -> Int {
        var low = 0, high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if isPast(ranges[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
