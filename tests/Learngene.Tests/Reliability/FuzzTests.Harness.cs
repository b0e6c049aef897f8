using System.Diagnostics;
using CsCheck;
using Learngene.Data;
using Learngene.Diffusion;
using Learngene.Experiments;
using Learngene.IO;
using Learngene.Methods;
using Learngene.Methods.Kind;
using Learngene.Methods.Pool;
using Learngene.Models;
using Learngene.Models.Linears;
using Learngene.Training;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Reliability;

/// <summary>The fuzz harness: mutations of valid files, the time-limited read, and the valid files each test starts from.</summary>
public partial class FuzzTests
{
    static readonly long Inputs = long.TryParse(Environment.GetEnvironmentVariable("LEARNGENE_FUZZ"), out var n) && n > 0 ? n : 300;
    static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    /// <summary>One edit of a valid file: where (as a fraction of its length, so it shrinks towards the start), what.</summary>
    public sealed record Mutation(int Operation, double At, byte Value, int Length)
    {
        static readonly string[] Operations = ["flip", "set", "cut", "insert", "digit", "delete"];
        public override string ToString() => $"{Operations[Operation]}@{At:F3}:{Value}x{Length}";
    }

    static readonly Gen<Mutation> AnyMutation = Gen.Select(Gen.Int[0, 5], Gen.Double[0, 1], Gen.Byte, Gen.Int[1, 16], (k, at, v, l) => new Mutation(k, at, v, l));

    /// <summary>A quarter of the inputs: random bytes; the rest: a valid file (one of several) with 1–8 mutations.</summary>
    static Gen<(int Which, Mutation[] Edits, byte[] Random)> Inputs_(int valid) => Gen.Frequency(
        (1, Gen.Byte.Array[0, 600].Select(b => (-1, Array.Empty<Mutation>(), b))),
        (3, Gen.Select(Gen.Int[0, valid - 1], AnyMutation.Array[1, 8], (w, m) => (w, m, Array.Empty<byte>()))));

    static byte[] Apply(byte[] valid, IEnumerable<Mutation> edits)
    {
        var b = new List<byte>(valid);
        foreach (var m in edits)
        {
            if (b.Count == 0) break;
            int at = Math.Min(b.Count - 1, (int)(m.At * b.Count));
            switch (m.Operation)
            {
                case 0: b[at] ^= (byte)(1 << (m.Value % 8)); break;
                case 1: b[at] = m.Value; break;
                case 2: b.RemoveRange(at, b.Count - at); break;
                case 3: b.InsertRange(at, Enumerable.Repeat(m.Value, m.Length)); break;
                case 4:
                    // A changed digit: headers then lie plausibly (a size, an offset, a dimension).
                    int digit = b.FindIndex(at, x => x is >= (byte)'0' and <= (byte)'9');
                    if (digit >= 0) b[digit] = (byte)('0' + m.Value % 10);
                    break;
                default: b.RemoveRange(at, Math.Min(m.Length, b.Count - at)); break;
            }
        }
        return b.ToArray();
    }

    /// <summary>Runs <paramref name="read"/> on one input under the time limit, on a thread of its own with its own
    /// dispose scope. Returns true when read, false when refused; throws on anything else or on a hang.</summary>
    static bool ReadOnce(string name, Action read)
    {
        // After one hang every later input fails at once: shrinking then ends quickly instead of leaving a thread
        // per hung input, and the hung input itself is kept for the report.
        if (Hung is not null) throw new TimeoutException($"{name}: an earlier input hung (kept at {Hung})");
        var task = Task.Factory.StartNew(() =>
        {
            using var scope = torch.NewDisposeScope();
            read();
        }, TaskCreationOptions.LongRunning);
        if (!task.Wait(Limit))
        {
            Hung = Path.Combine(Path.GetTempPath(), $"learngene-hung-{name.Replace(' ', '-')}-{Guid.NewGuid():N}");
            File.Copy(CurrentInput!, Hung);
            throw new TimeoutException($"{name}: one input was still being read after {Limit.TotalSeconds:F0} s (kept at {Hung})");
        }
        return true;
    }

    /// <summary>Reads every input with <paramref name="read"/> (given the input file's path); fails on any exception
    /// but LearngeneException, on an input past the time limit, and on resident memory growing past 1 GiB.</summary>
    static void Fuzz(string name, byte[][] valid, Action<string> read, string fileName = "input")
    {
        string dir = TestData.TempDir(), path = Path.Combine(dir, fileName);
        CurrentInput = path;
        long before = Process.GetCurrentProcess().WorkingSet64;
        var clock = Stopwatch.StartNew();
        int refused = 0, read_ = 0;
        // Every valid file reads: the mutations start from files the readers take, so they reach past the first check.
        foreach (var file in valid)
        {
            File.WriteAllBytes(path, file);
            try { ReadOnce(name, () => read(path)); }
            catch (AggregateException e) { throw new Exception($"{name}: a valid input was not read: {e.InnerException!.Message}", e.InnerException); }
        }
        Inputs_(valid.Length).Sample(input =>
        {
            File.WriteAllBytes(path, input.Which < 0 ? input.Random : Apply(valid[input.Which], input.Edits));
            try { ReadOnce(name, () => read(path)); read_++; }
            catch (AggregateException e) when (e.InnerException is LearngeneException) { refused++; }
            catch (AggregateException e) { System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException!).Throw(); }
        }, iter: Inputs, threads: 1);
        long grown = Process.GetCurrentProcess().WorkingSet64 - before;
        Assert.True(grown < 1L << 30, $"{name}: resident memory grew {grown >> 20} MiB");
        Assert.True(read_ + refused == Inputs, $"{name}: {read_} read and {refused} refused of {Inputs}");
        Console.WriteLine($"fuzz {name}: {Inputs} inputs ({read_} read, {refused} refused) in {clock.Elapsed.TotalSeconds:F1} s");
    }

    static string Dir() => TestData.TempDir();
    static volatile string? Hung;
    [ThreadStatic] static string? CurrentInput;

    static byte[] Saved(Action<string> save, string name = "f.safetensors")
    {
        string path = Path.Combine(Dir(), name);
        save(path);
        return File.ReadAllBytes(path);
    }

    /// <summary>The same file as another tool would write it: no Learngene hashes or version (mutations then reach
    /// the tensors, the metadata and the shapes instead of stopping at the hash).</summary>
    static byte[] Foreign(byte[] file)
    {
        long n = BitConverter.ToInt64(file, 0);
        var header = System.Text.Json.Nodes.JsonNode.Parse(file.AsSpan(8, (int)n))!.AsObject();
        foreach (var key in new[] { SafeTensors.HashKey, SafeTensors.MetadataHashKey, SafeTensors.VersionKey }) header["__metadata__"]!.AsObject().Remove(key);
        var text = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
        return [.. BitConverter.GetBytes((long)text.Length), .. text, .. file.AsSpan(8 + (int)n)];
    }

    static byte[][] Both(byte[] file) => [file, Foreign(file)];

    static readonly VitConfig TinyVit = new() { Width = 8, Depth = 2, Heads = 2, PatchSize = 7, Classes = 3, Pooling = "avg" };
    static readonly DitConfig TinyDit = new() { Width = 16, Depth = 1, Heads = 2, PatchSize = 7, ImageSize = 28, Channels = 1, Classes = 3 };
    static readonly Normalization Norm = new([0.5f], [0.25f]);

    static byte[] ModelFileBytes(ModelConfig config) => Saved(path =>
    {
        using var model = config is DitConfig d ? (nn.Module)new DiffusionTransformer(d) : Classifier.Create(config);
        ModelFile.Save(path, model, (IModel)model, Norm, ["a", "b", "c"], config is DitConfig ? new Dictionary<string, string> { [DiffusionFile.PredictionKey] = "velocity", [DiffusionFile.StepsKey] = "50" } : null);
    });
}
