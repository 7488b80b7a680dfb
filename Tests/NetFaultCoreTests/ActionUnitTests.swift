import Testing
@testable import NetFaultCore

/// Every action, walked through `Action.Kind.allCases`: a new one is covered as soon as it exists,
/// and this file does not compile until it has a sample.
struct ActionUnitTests {
    /// A rule file's action for `kind`, and what its decision on a client's data segment must be.
    static func sample(_ kind: Action.Kind) -> (text: String, check: (Decision) -> Bool) {
        switch kind {
        case .pass: return ("pass", { $0.verdict == .accept && !$0.hasInjections })
        case .drop: return ("drop", { $0.verdict == .drop && !$0.hasInjections })
        case .hold: return ("{hold: 3s}", { $0.verdict == .acceptAfter(.milliseconds(3000)) })
        case .delay: return ("{delay: 100ms}", { $0.verdict == .acceptAfter(.milliseconds(100)) })
        case .reset: return ("{reset: both}", { $0.verdict == .drop && $0.injections.count == 2 })
        case .reject: return ("{reject: tcp-reset}", { $0.verdict == .drop && $0.injections.count == 1 })
        case .rewrite:
            return ("{rewrite: {ttl: 7}}", { decision in
                guard case .replace(let bytes) = decision.verdict else { return false }
                return parsed(bytes) { $0.timeToLive == 7 }
            })
        case .duplicate: return ("{duplicate: 2}", { $0.verdict == .accept && $0.injections.count == 2 })
        // A data segment carries neither the option nor an MSS: it goes as it came
        // (TCPOptionActionTests change SYNs).
        case .stripOptions: return ("{strip_options: [wscale]}", { $0.verdict == .accept && !$0.hasInjections })
        case .clampMSS: return ("{clamp_mss: 1200}", { $0.verdict == .accept && !$0.hasInjections })
        // In the good state, a packet gets through with probability k: none does.
        case .loss: return ("{loss: {model: gilbert-elliott, p: 1%, k: 0%}}", { $0.verdict == .drop && !$0.hasInjections })
        // The burst lets the first packet go at once; rate 0 carries nothing.
        case .rate: return ("{rate: 0}", { $0.verdict == .drop && !$0.hasInjections })
        case .corrupt:
            return ("{corrupt: {bits: 1, checksum: fix}}", { decision in
                guard case .replace(let bytes) = decision.verdict else { return false }
                return (try? transportChecksumVerifies(bytes)) == true
            })
        // Taken out of the stream, to be sent again after later packets.
        case .reorder: return ("{reorder: {gap: 2}}", { $0.verdict == .drop && !$0.hasInjections })
        case .slice:
            return ("{slice: {size: 3}}", { decision in
                decision.verdict == .drop && decision.injections.map { parsed($0.bytes) { $0.payloadLength } }.reduce(0, +) > 3
                    && decision.injections.allSatisfy { parsed($0.bytes) { $0.payloadLength <= 3 } }
            })
        // The SYN before it chose the offset: the client's data reaches the server 1000 further on.
        case .shiftSeq:
            return ("{shift_seq: 1000}", { decision in
                guard case .replace(let bytes) = decision.verdict else { return false }
                return parsed(bytes) { $0.sequenceNumber == 1001 + 1000 }
            })
        case .close:
            return ("{close: both}", { decision in
                decision.verdict == .drop && decision.injections.count == 2
                    && decision.injections.allSatisfy { parsed($0.bytes) { $0.tcpFlags == [.fin, .ack] } }
            })
        // Answers a UDP query (see `traffic`): the query dropped, one response to the client.
        case .dns:
            return ("{dns: nxdomain}", { decision in
                decision.verdict == .drop && decision.injections.count == 1 && decision.injections[0].toward == .client
                    && parsed(decision.injections[0].bytes) { $0.transport == .udp && $0.sourcePort == 53 }
            })
        }
    }

    /// The match of the sample rule for `kind`, and the client's packet it decides: a TCP data
    /// segment to port 80, or for the DNS answer (UDP only) a query to port 53.
    static func traffic(_ kind: Action.Kind) -> (match: String, packet: (inout Conversation) -> [UInt8]) {
        guard kind == .dns else { return ("{server_port: 80, from: client}", { $0.data(from: .client) }) }
        return ("{protocol: udp, server_port: 53, from: client}", { conversation in
            PacketBuilder.udp(source: conversation.client.address, destination: conversation.server.address,
                              sourcePort: conversation.client.port, destinationPort: 53, payload: DNSSamples.query(name: "a.example", type: 1))
        })
    }

    @Test(arguments: Action.Kind.allCases)
    func everyActionParsesDescribesItselfAndDecides(_ kind: Action.Kind) throws {
        let sample = Self.sample(kind)
        let traffic = Self.traffic(kind)
        let file = try RuleFile.parse("hooks: [forward]\nrules:\n  - name: a\n    match: \(traffic.match)\n    action: \(sample.text)\n",
                                      name: "r.yaml")
        let action = file.ruleSet.rules[0].action
        #expect(action.kind == kind && action.keyword == kind.rawValue)
        #expect(!action.summary.isEmpty && CheckSummary(file: file).text.contains(action.summary))
        #expect(file.ruleSet.canHold == kind.needs.contains(.parking))
        #expect(file.ruleSet.needsWholePackets == kind.needs.contains(.wholePackets))
        #expect(file.ruleSet.needsSegments == (kind.needs.contains(.segments) || action.roll != nil))
        var driver = try EngineDriver(file)
        var conversation = Conversation()
        _ = driver.send(conversation.syn())
        let decision = driver.send(traffic.packet(&conversation))
        #expect(sample.check(decision), "\(kind): \(decision.verdict)")
        #expect(decision.rule == 0)
    }

    /// Written alone, an action that needs a setting says what it looks like.
    @Test(arguments: Action.Kind.allCases)
    func aMissingSettingIsExplained(_ kind: Action.Kind) throws {
        let text = "rules:\n  - name: a\n    action: \(kind.rawValue)\n"
        guard let usage = kind.unit.settingUsage else {
            #expect(throws: Never.self) { try RuleFile.parse(text, name: "r.yaml") }
            return
        }
        let error = try #require(throws: RuleFileError.self) { try RuleFile.parse(text, name: "r.yaml") }
        #expect(error.description == "r.yaml:3:13: rules[0].action: \(kind.rawValue) needs \(usage)")
    }

    @Test func theNamesComeFromTheKinds() throws {
        let error = try #require(throws: RuleFileError.self) {
            try RuleFile.parse("rules:\n  - name: a\n    action: drpo\n", name: "r.yaml")
        }
        let names = Action.Kind.allCases.map(\.rawValue).joined(separator: ", ")
        #expect(error.description == "r.yaml:3:13: rules[0].action: 'drpo' is not an action; did you mean 'drop'? (\(names))")
    }
}
