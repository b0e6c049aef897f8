using Learngene.IO;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Learngene.Tests;

public class SafeTensorsTests
{
    [Fact]
    public void Round_trip_keeps_tensors_and_metadata()
    {
        string path = Path.Combine(TestData.TempDir(), "a.safetensors");
        var tensors = new Dictionary<string, Tensor> { ["w"] = torch.randn(3, 4), ["i"] = torch.arange(5), ["b"] = torch.tensor(new byte[] { 1, 2 }) };
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "x", ["note"] = "ünïcode" });
        var (back, meta) = SafeTensors.Load(path);
        foreach (var (k, v) in tensors) Assert.True(v.SameAs(back[k]), k);
        Assert.Equal("ünïcode", meta["note"]);
        Assert.Equal("x", SafeTensors.ReadMetadata(path)["format"]);
    }

    [Fact]
    public void Files_interoperate_with_TorchSharp_PyBridge()
    {
        string dir = TestData.TempDir();
        var linear = nn.Linear(4, 3);
        // Ours → PyBridge
        SafeTensors.Save(Path.Combine(dir, "ours.safetensors"), linear.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value));
        var other = nn.Linear(4, 3);
        other.load_safetensors(Path.Combine(dir, "ours.safetensors"));
        Assert.True(linear.weight!.SameAs(other.weight!));
        // PyBridge → ours
        var third = nn.Linear(4, 3);
        third.save_safetensors(Path.Combine(dir, "theirs.safetensors"));
        var (back, _) = SafeTensors.Load(Path.Combine(dir, "theirs.safetensors"));
        Assert.True(third.bias!.SameAs(back["bias"]));
    }

    [Fact]
    public void Truncated_file_gives_a_clear_error()
    {
        string path = Path.Combine(TestData.TempDir(), "t.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = torch.randn(100) });
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 10)]);
        var e = Assert.Throws<LearngeneException>(() => SafeTensors.Load(path));
        Assert.Contains("truncated", e.Message);
        File.WriteAllBytes(path, bytes[..5]);
        Assert.Throws<LearngeneException>(() => SafeTensors.Load(path));
    }

    [Fact]
    public void Garbage_is_not_taken_for_safetensors()
    {
        string path = Path.Combine(TestData.TempDir(), "g.safetensors");
        File.WriteAllText(path, "this is not a model file at all, just some text");
        Assert.Throws<LearngeneException>(() => SafeTensors.Load(path));
    }
}

/// <summary>Files carry a format version and a SHA-256 of their tensor data, checked at load.</summary>
public class FileIntegrityTests
{
    static (string Path, long DataStart) Write()
    {
        string path = Path.Combine(TestData.TempDir(), "m.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = torch.randn(64, 64) }, new Dictionary<string, string> { ["format"] = "x" });
        long headerLen = BitConverter.ToInt64(File.ReadAllBytes(path), 0);
        return (path, 8 + headerLen);
    }

    [Fact]
    public void Every_file_says_its_format_version_and_data_hash()
    {
        var (path, _) = Write();
        var meta = SafeTensors.ReadMetadata(path);
        Assert.Equal(SafeTensors.FormatVersion, meta[SafeTensors.VersionKey]);
        Assert.Equal(64, meta[SafeTensors.HashKey].Length); // hex SHA-256
    }

    [Fact]
    public void A_flipped_bit_in_a_weight_is_caught_at_load()
    {
        var (path, dataStart) = Write();
        var bytes = File.ReadAllBytes(path);
        bytes[dataStart + 1000] ^= 0x10; // one bit of one float: still a plausible weight
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<LearngeneException>(() => SafeTensors.Load(path));
        Assert.Contains("SHA-256", e.Message);
    }

    [Fact]
    public void A_Learngene_file_whose_hash_entry_was_lost_is_refused_not_loaded_unchecked()
    {
        var (path, dataStart) = Write();
        var bytes = File.ReadAllBytes(path);
        // A damaged header that still parses: the hash's key changed by one letter, and a weight's bit flipped.
        var text = System.Text.Encoding.UTF8.GetString(bytes, 8, (int)dataStart - 8).Replace(SafeTensors.HashKey, "data_sha25x");
        System.Text.Encoding.UTF8.GetBytes(text).CopyTo(bytes, 8);
        bytes[dataStart + 1000] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<LearngeneException>(() => SafeTensors.Load(path));
        Assert.Contains("SHA-256", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void A_file_without_version_or_hash_still_loads()
    {
        // As PyTorch's safetensors or another tool writes it: no Learngene metadata at all.
        string path = Path.Combine(TestData.TempDir(), "plain.safetensors");
        var header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"u8.ToArray();
        using (var f = File.Create(path))
        {
            f.Write(BitConverter.GetBytes((long)header.Length));
            f.Write(header);
            f.Write(BitConverter.GetBytes(1.5f));
            f.Write(BitConverter.GetBytes(-2f));
        }
        var (t, meta) = SafeTensors.Load(path);
        Assert.Empty(meta);
        Assert.Equal([1.5f, -2f], t["w"].data<float>().ToArray());
    }

    [Fact]
    public void A_changed_metadata_value_is_caught_at_load()
    {
        var (path, dataStart) = Write();
        var bytes = File.ReadAllBytes(path);
        // A changed setting of the same length (a normalisation std, an optimizer step would be the same): the JSON still parses.
        var text = System.Text.Encoding.UTF8.GetString(bytes, 8, (int)dataStart - 8).Replace("\"format\":\"x\"", "\"format\":\"y\"");
        System.Text.Encoding.UTF8.GetBytes(text).CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("header does not match", Assert.Throws<LearngeneException>(() => SafeTensors.Load(path)).Message);
        Assert.Contains("header does not match", Assert.Throws<LearngeneException>(() => SafeTensors.ReadMetadata(path)).Message);
    }

    [Fact]
    public void A_changed_dtype_or_shape_of_the_same_size_is_caught_at_load()
    {
        foreach (var (from, to) in new[] { ("\"F32\"", "\"I32\""), ("[64,64]", "[8,512]") })
        {
            var (path, dataStart) = Write();
            var bytes = File.ReadAllBytes(path);
            var text = System.Text.Encoding.UTF8.GetString(bytes, 8, (int)dataStart - 8);
            Assert.Contains(from, text);
            System.Text.Encoding.UTF8.GetBytes(text.Replace(from, to)).CopyTo(bytes, 8);
            File.WriteAllBytes(path, bytes);
            Assert.Contains("header does not match", Assert.Throws<LearngeneException>(() => SafeTensors.Load(path)).Message);
        }
    }

    [Fact]
    public void Many_tensors_with_empty_ones_among_them_load_in_any_header_order()
    {
        string path = Path.Combine(TestData.TempDir(), "many.safetensors");
        var tensors = Enumerable.Range(0, 24).ToDictionary(i => $"t{i:D2}", i => i % 3 == 0 ? torch.zeros(0, 4) : torch.full(i, (float)i));
        SafeTensors.Save(path, tensors);
        var (read, _) = SafeTensors.Load(path);
        Assert.Equal(24, read.Count);
        foreach (var (name, t) in tensors) Assert.True(t.shape.SequenceEqual(read[name].shape) && t.equal(read[name]).all().item<bool>(), name);
    }

    [Fact]
    public void A_format_1_0_file_without_a_metadata_hash_still_loads()
    {
        string path = Path.Combine(TestData.TempDir(), "old.safetensors");
        var data = BitConverter.GetBytes(3f);
        string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));
        var header = System.Text.Encoding.UTF8.GetBytes($"{{\"__metadata__\":{{\"format_version\":\"1.0\",\"data_sha256\":\"{hash}\",\"format\":\"x\"}},\"w\":{{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}}}");
        using (var f = File.Create(path)) { f.Write(BitConverter.GetBytes((long)header.Length)); f.Write(header); f.Write(data); }
        var (t, meta) = SafeTensors.Load(path);
        Assert.Equal("x", meta["format"]);
        Assert.Equal(3f, t["w"].item<float>());
    }

    [Fact]
    public void A_tensor_larger_than_the_read_piece_round_trips_exactly()
    {
        string path = Path.Combine(TestData.TempDir(), "big.safetensors");
        torch.manual_seed(3);
        using var big = torch.randn(21_000_000); // 84 MB: two pieces of 64 MiB
        using var small = torch.arange(5);
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["big"] = big, ["small"] = small });
        var (t, _) = SafeTensors.Load(path);
        Assert.True(t["big"].equal(big).all().item<bool>());
        Assert.True(t["small"].equal(small).all().item<bool>());
        foreach (var x in t.Values) x.Dispose();
    }

    [Fact]
    public void A_newer_major_version_is_refused_with_a_clear_error()
    {
        string path = Path.Combine(TestData.TempDir(), "future.safetensors");
        // Written by hand: Save always stamps this build's version.
        var header = "{\"__metadata__\":{\"format_version\":\"2.0\"},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"u8.ToArray();
        using (var f = File.Create(path))
        {
            f.Write(BitConverter.GetBytes((long)header.Length));
            f.Write(header);
            f.Write(BitConverter.GetBytes(1f));
        }
        var e = Assert.Throws<LearngeneException>(() => SafeTensors.Load(path));
        Assert.Contains("newer Learngene", e.Message);
        Assert.Throws<LearngeneException>(() => SafeTensors.ReadMetadata(path));
    }

    [Fact]
    public void Eval_of_a_corrupted_model_file_is_one_error_line()
    {
        using var model = Learngene.Models.Classifier.Create(new Learngene.Models.VitConfig { Width = 16, Depth = 1, Heads = 2, Classes = 10 });
        string path = Path.Combine(TestData.TempDir(), "model.safetensors");
        ModelFile.Save(path, model, model, new Learngene.Data.Normalization([0.5f], [0.25f]), Enumerable.Range(0, 10).Select(k => k.ToString()).ToArray());
        var bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0x01;
        File.WriteAllBytes(path, bytes);
        var (code, _, err) = CliTests.Run("eval", path, "--data", "fashion-mnist", "--test-limit", "10");
        Assert.NotEqual(0, code);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("corrupt", lines[0]);
    }
}

/// <summary>Files of any size. In the fuzzers' collection: its 2.2 GB tensor would otherwise land inside a fuzz
/// run's measurement of the process's resident memory.</summary>
[Collection("fuzz")]
public class LargeFileTests
{
    [Fact]
    public void A_file_over_4_GiB_loads_with_its_hash_checked()
    {
        // Sparse on disk: a 2.2 GB tensor (more bytes than one .NET span or array holds), a hole that no tensor
        // claims (hashed all the same), then a small tensor whose offsets are past 4 GiB. Memory: the big tensor only.
        string path = Path.Combine(TestData.TempDir(), "huge.safetensors");
        const long bigBytes = 2_200_000_000L, tailAt = 4_400_000_000L;
        var tail = new[] { 1.5f, -2f, 3.25f, 7f }.SelectMany(BitConverter.GetBytes).ToArray();
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var zeros = new byte[64 << 20];
        for (long left = tailAt; left > 0; left -= zeros.Length) sha.AppendData(zeros, 0, (int)Math.Min(left, zeros.Length));
        sha.AppendData(tail);
        string hash = Convert.ToHexStringLower(sha.GetHashAndReset());
        var header = System.Text.Encoding.UTF8.GetBytes($"{{\"__metadata__\":{{\"data_sha256\":\"{hash}\"}},\"big\":{{\"dtype\":\"U8\",\"shape\":[{bigBytes}],\"data_offsets\":[0,{bigBytes}]}}," +
                                                     $"\"tail\":{{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[{tailAt},{tailAt + 16}]}}}}");
        long dataStart = 8 + header.Length;
        using (var f = File.Create(path))
        {
            f.Write(BitConverter.GetBytes((long)header.Length));
            f.Write(header);
            f.Position = dataStart + tailAt; // the rest reads as zeros
            f.Write(tail);
        }
        Assert.True(new FileInfo(path).Length > 4L << 30);
        var (t, _) = SafeTensors.Load(path);
        Assert.Equal(bigBytes, t["big"].numel());
        Assert.Equal([1.5f, -2f, 3.25f, 7f], t["tail"].data<float>().ToArray());
        Assert.Equal(0, t["big"][bigBytes - 1].item<byte>());
        foreach (var x in t.Values) x.Dispose();
        // One byte changed past 4 GiB: the hash, computed while reading, catches it.
        using (var f = new FileStream(path, FileMode.Open, FileAccess.Write)) { f.Position = dataStart + (4L << 30) + 12345; f.WriteByte(1); }
        Assert.Contains("SHA-256", Assert.Throws<LearngeneException>(() => SafeTensors.Load(path)).Message);
        File.Delete(path);
    }
}
