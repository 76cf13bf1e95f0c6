/// Setting the engine's numeric tunables by name (`moat detect --set campaignMeanScore=0.7`), for tuning
/// and for held-out experiments without rebuilding.
extension DetectionConfig {
    public struct UnknownSetting: Error, CustomStringConvertible {
        public var description: String
    }

    static var doubles: [String: WritableKeyPath<DetectionConfig, Double>] { [
        "reorderWindowSeconds": \.reorderWindowSeconds, "scoreBias": \.scoreBias,
        "weightChainOfThought": \.weightChainOfThought, "weightThinking": \.weightThinking, "weightTools": \.weightTools,
        "weightTargetedCapability": \.weightTargetedCapability, "weightProxyRotation": \.weightProxyRotation,
        "weightNewAccount": \.weightNewAccount, "weightProgram": \.weightProgram,
        "weightWeakVerification": \.weightWeakVerification, "weightTemplateReuse": \.weightTemplateReuse,
        "weightSingleShot": \.weightSingleShot, "weightOutputHeavy": \.weightOutputHeavy, "weightModelPivot": \.weightModelPivot, "weightFlood": \.weightFlood, "weightPeerIndicator": \.weightPeerIndicator,
        "weightRoundTheClock": \.weightRoundTheClock, "weightExitEvasion": \.weightExitEvasion,
        "exitEvasionPseudoRequests": \.exitEvasionPseudoRequests,
        "priorStrength": \.priorStrength, "newAccountDays": \.newAccountDays, "linkGate": \.linkGate, "familyLinkGate": \.familyLinkGate,
        "hardLinkThreshold": \.hardLinkThreshold, "familyHardThreshold": \.familyHardThreshold, "totalLinkThreshold": \.totalLinkThreshold,
        "residentialIPWeight": \.residentialIPWeight, "networkShareFull": \.networkShareFull, "minHardKindWeight": \.minHardKindWeight,
        "campaignMergeHardThreshold": \.campaignMergeHardThreshold, "rarityFloorAccounts": \.rarityFloorAccounts,
        "signupBurstFactor": \.signupBurstFactor, "familySimilarity": \.familySimilarity, "burstLift": \.burstLift,
        "burstAlpha": \.burstAlpha, "burstBaselineTrim": \.burstBaselineTrim, "syncMinSpanHours": \.syncMinSpanHours, "syncJoinMinSpanHours": \.syncJoinMinSpanHours, "syncMinShare": \.syncMinShare,
        "syncAlpha": \.syncAlpha, "syncJoinAlpha": \.syncJoinAlpha, "syncNullInflation": \.syncNullInflation, "syncClusterOverlap": \.syncClusterOverlap, "familyMergeShare": \.familyMergeShare,
        "familyAttachShare": \.familyAttachShare, "familyExtractingShare": \.familyExtractingShare, "memoryGapHours": \.memoryGapHours,
        "campaignMeanScore": \.campaignMeanScore, "familyGroupMeanScore": \.familyGroupMeanScore,
        "familyGroupShare": \.familyGroupShare, "clusterMergeOverlap": \.clusterMergeOverlap, "suspiciousScore": \.suspiciousScore,
    ] }

    static var ints: [String: WritableKeyPath<DetectionConfig, Int>] { [
        "minHardKinds": \.minHardKinds, "signupBurstMinAccounts": \.signupBurstMinAccounts,
        "templateMinUses": \.templateMinUses, "shapeMinUses": \.shapeMinUses, "burstMinAccounts": \.burstMinAccounts,
        "syncMinBursts": \.syncMinBursts, "syncClusterMinAccounts": \.syncClusterMinAccounts, "syncJoinMinBursts": \.syncJoinMinBursts, "syncPartMinBursts": \.syncPartMinBursts, "burstSkipWindows": \.burstSkipWindows, "familyMinHolders": \.familyMinHolders, "minCampaignAccounts": \.minCampaignAccounts,
        "suspiciousMinExchanges": \.suspiciousMinExchanges, "networkOnlyMinValues": \.networkOnlyMinValues,
        "networkOnlyMinFamilyKinds": \.networkOnlyMinFamilyKinds, "floodValues": \.floodValues,
    ] }

    /// The names `set(_:)` accepts.
    public static var settingNames: [String] { (Array(doubles.keys) + Array(ints.keys)).sorted() }

    /// Applies `name=value`.
    public mutating func set(_ assignment: String) throws(UnknownSetting) {
        let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw UnknownSetting(description: "expected name=value, got '\(assignment)'") }
        let (name, value) = (parts[0], parts[1])
        if let path = Self.doubles[name] {
            guard let v = Double(value), v.isFinite else { throw UnknownSetting(description: "\(name): '\(value)' is not a number") }
            self[keyPath: path] = v
        } else if let path = Self.ints[name] {
            guard let v = Int(value) else { throw UnknownSetting(description: "\(name): '\(value)' is not an integer") }
            self[keyPath: path] = v
        } else {
            throw UnknownSetting(description: "unknown setting '\(name)'; known: \(Self.settingNames.joined(separator: ", "))")
        }
    }
}
