import RequestLimits

extension RequestLimits {
    /// Limits without a bucket: every request held whole, up to `maxHeld` bytes.
    static func held(_ maxHeld: Int) -> RequestLimits {
        RequestLimits(
            threshold: 262_144, maxPayloadSize: 1 << 31, maxHeldRequestSize: maxHeld, partSize: nil, partsInFlight: 1)
    }

    /// The defaults with a bucket whose uploads use `partSize`.
    static func streamed(partSize: Int) -> RequestLimits {
        RequestLimits(
            threshold: 262_144, maxPayloadSize: 1 << 31, maxHeldRequestSize: 16 << 20, partSize: partSize,
            partsInFlight: 4)
    }
}
