@testable import CatroomBench
import Testing

/// The one percentile rule every bench report uses: index ⌊count × p⌋, clamped to the last.
@Suite struct PercentileTests {
    @Test func picksTheFloorIndexClampedToTheLast() {
        let sorted = Array(1...10)
        #expect(percentile(0.5, ofSorted: sorted) == 6)
        #expect(percentile(0.9, ofSorted: sorted) == 10)
        #expect(percentile(0.99, ofSorted: sorted) == 10)
        #expect(percentile(1.0, ofSorted: sorted) == 10)
        #expect(percentile(0.5, ofSorted: [1, 2, 3]) == 2)
        #expect(percentile(0.5, ofSorted: [7]) == 7)
    }

    @Test func emptyHasNone() {
        #expect(percentile(0.5, ofSorted: [Int]()) == nil)
    }
}
