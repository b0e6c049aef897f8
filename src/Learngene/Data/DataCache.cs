namespace Learngene.Data;

/// <summary>Data sets read (and checked) once per cache: an experiment trains dozens of models on the same
/// data, so whoever runs it makes one cache and hands it to every run. A request for an image size the
/// data already has reuses the copy read at its own size.</summary>
public sealed class DataCache(DataCatalog catalog)
{
    public DataCatalog Catalog { get; } = catalog;

    readonly Dictionary<(string, int?), DataSplits> raw = [];
    readonly Dictionary<(string, int?, int), ImageDataset> taskData = [];
    // One cache may serve runs on several threads (the tests share one): each data set is read once, and a
    // run's Release never sees a half-updated table (a set loaded twice and then freed under another run's
    // feet was the test losses' intermittent NaN).
    readonly Lock gate = new();

    /// <summary>A data set as read from disk.</summary>
    public DataSplits Raw(string data, int? size = null, Action<string>? log = null)
    {
        lock (gate) return RawLocked(data, size, log);
    }

    DataSplits RawLocked(string data, int? size, Action<string>? log)
    {
        if (raw.TryGetValue((data, size), out var r)) return r;
        if (size is int s && raw.TryGetValue((data, null), out var native) && native.Train.ImageSize == s) return native;
        // "a+b": the data sets one after the other, their classes too (KIND pre-trains on digits and garments).
        var loaded = data.Contains('+') && !data.Contains(':') ? Combined(data, size, log) : DataSource.Load(data, Catalog, size, log);
        // The cache outlives the caller's dispose scope (a test or a run may first ask inside one).
        loaded.Train.Kept();
        loaded.Test.Kept();
        return raw[(data, size)] = loaded;
    }

    DataSplits Combined(string data, int? size, Action<string>? log)
    {
        var parts = data.Split('+').Select(p => p.Trim()).ToArray();
        if (parts.Any(p => p.Length == 0)) throw new LearngeneException($"'{data}' names an empty data set (combine as a+b)", setting: "data");
        var splits = parts.Select(p => Raw(p, size, log)).ToArray();
        return new DataSplits(ImageDataset.Concat(data, splits.Select(s => s.Train).ToArray()), ImageDataset.Concat(data, splits.Select(s => s.Test).ToArray()));
    }

    /// <summary>The training images of a run with this data, limit and seed (kept: experiment runners ask
    /// for it once per descendant).</summary>
    public ImageDataset TaskData(string data, int? limit, int seed)
    {
        var key = (data, limit, seed);
        lock (gate)
        {
            if (!taskData.TryGetValue(key, out var d))
            {
                var all = Raw(data).Train;
                taskData[key] = d = (limit is int n ? all.Subset(n, seed) : all).Kept();
            }
            return d;
        }
    }

    /// <summary>Train and test images resized to <paramref name="size"/> (null: the data's own), each cut
    /// to its limit with its seed.</summary>
    public DataSplits Splits(string data, int? size, int? trainLimit, int trainSeed, int? testLimit, int testSeed, Action<string>? log = null)
    {
        var r = Raw(data, size, log);
        return new DataSplits(Prepare(r.Train, trainLimit, trainSeed), Prepare(r.Test, testLimit, testSeed));

        ImageDataset Prepare(ImageDataset d, int? limit, int seed)
        {
            var adapted = d.Adapt(size ?? r.Train.ImageSize, d.Channels);
            if (limit is not int n) return adapted;
            var subset = adapted.Subset(n, seed);
            if (!ReferenceEquals(adapted, d) && !ReferenceEquals(adapted, subset)) adapted.Dispose();
            return subset;
        }
    }

    /// <summary>Frees a run's splits now, on this thread, except the sets this cache keeps.</summary>
    public void Release(DataSplits splits)
    {
        foreach (var d in new[] { splits.Train, splits.Test })
            if (!Holds(d)) d.Dispose();
    }

    /// <summary>True for a data set this cache keeps (it must not be freed by a run that used it).</summary>
    public bool Holds(ImageDataset d)
    {
        lock (gate) return raw.Values.Any(c => ReferenceEquals(d, c.Train) || ReferenceEquals(d, c.Test)) || taskData.Values.Any(t => ReferenceEquals(t, d));
    }
}
