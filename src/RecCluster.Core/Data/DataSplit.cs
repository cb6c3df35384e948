namespace RecCluster.Core.Data;

public enum SplitStrategy { LeaveOneOut, TemporalHoldout }

/// <summary>
/// One held-out block at the end of a user's time-ordered items: the last item (leave-one-out), or the latest share
/// <see cref="Ratio"/> of them (temporal holdout, as WarpRec's: the first ⌊n·(1 − ratio)⌋ items stay before the block).
/// </summary>
public sealed record SplitPart(SplitStrategy Strategy, double Ratio)
{
    public static readonly SplitPart LastItem = new(SplitStrategy.LeaveOneOut, 0);

    public static SplitPart Latest(double ratio) => ratio is > 0 and < 1
        ? new SplitPart(SplitStrategy.TemporalHoldout, ratio)
        : throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "a holdout ratio lies strictly between 0 and 1");

    /// <summary>
    /// Where the block starts among <paramref name="count"/> items, keeping at least <paramref name="keep"/> items before it
    /// and one in it (users too short for the ratio to leave that get the nearest split that does).
    /// </summary>
    public int Start(int count, int keep) => Strategy == SplitStrategy.LeaveOneOut
        ? count - 1
        : Math.Clamp((int)Math.Floor(count * (1 - Ratio)), keep, count - 1);

    public override string ToString() => Strategy == SplitStrategy.LeaveOneOut ? "leave_one_out" : $"temporal_holdout {Ratio:R}";
}

/// <summary>
/// How each user's time-ordered items are split: the test block at the end, the validation block right before it (cut
/// from what the test block leaves), the training history before that. Every block of a user with three or more items
/// holds at least one item.
/// </summary>
public sealed record DataSplit(SplitPart Test, SplitPart Valid)
{
    public static readonly DataSplit LeaveOneOut = new(SplitPart.LastItem, SplitPart.LastItem);

    /// <summary>One target a user per split: metrics rank a single item (and the synthetic oracle applies).</summary>
    public bool IsLeaveOneOut => Test.Strategy == SplitStrategy.LeaveOneOut && Valid.Strategy == SplitStrategy.LeaveOneOut;

    /// <summary>Where a user's validation and test blocks start among <paramref name="count"/> (at least 3) items.</summary>
    public (int ValidStart, int TestStart) Boundaries(int count)
    {
        int testStart = Test.Start(count, keep: 2);
        return (Valid.Start(testStart, keep: 1), testStart);
    }

    public override string ToString() => IsLeaveOneOut ? "leave_one_out" : $"test {Test}, validation {Valid}";
}
