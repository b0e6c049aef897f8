namespace Learngene.Statistics;

/// <summary>Per-image test outcomes as results files keep them: one bit per test image (1 = classified
/// correctly), in the test set's order, base64-encoded (10 000 images: 1 668 characters).</summary>
public static class TestOutcomes
{
    public static string Encode(IReadOnlyList<bool> correct)
    {
        var bytes = new byte[4 + (correct.Count + 7) / 8];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 4), correct.Count);
        for (int i = 0; i < correct.Count; i++)
            if (correct[i]) bytes[4 + i / 8] |= (byte)(1 << (i % 8));
        return Convert.ToBase64String(bytes);
    }

    public static bool[] Decode(string encoded)
    {
        byte[] bytes;
        try { bytes = Convert.FromBase64String(encoded); }
        catch (FormatException) { throw new LearngeneException("a results file's per-image outcomes are not base64: damaged?"); }
        int n = bytes.Length >= 4 ? BitConverter.ToInt32(bytes, 0) : -1;
        if (n < 0 || bytes.Length != 4 + (n + 7) / 8) throw new LearngeneException("a results file's per-image outcomes do not hold the count they state: damaged?");
        var correct = new bool[n];
        for (int i = 0; i < n; i++) correct[i] = (bytes[4 + i / 8] & (1 << (i % 8))) != 0;
        return correct;
    }
}
