using RecCluster.Core.Data;

namespace RecCluster.Core.Tests;

public class ReaderTests : IDisposable
{
    private readonly TempFiles _files = new();
    public void Dispose() => _files.Dispose();

    [Fact]
    public void Atomic_file_rows_are_sorted_by_time_per_user_with_ties_in_file_order()
    {
        var path = _files.Write("a.inter", "user_id:token\titem_id:token\trating:float\ttimestamp:float\n" +
            "u1\tc\t5\t30\nu1\ta\t5\t10\nu2\tx\t1\t5\nu1\tb\t4\t20\nu1\td\t3\t20\nu2\ty\t1\t6\nu2\tz\t1\t7\n");
        var (rows, format) = InteractionReader.Read(path);
        Assert.Equal(DataFormat.Atomic, format);
        var data = SequenceDataset.FromInteractions(path, rows);
        Assert.Equal(["u1", "u2"], data.UserTokens);
        Assert.Equal(["a", "b", "d", "c"], data.Sequences[0].Select(i => data.ItemTokens[i]));
        Assert.Equal(["x", "y", "z"], data.Sequences[1].Select(i => data.ItemTokens[i]));
        Assert.Equal("d", data.ItemTokens[data.Targets(0, Split.Valid)[0]]);
        Assert.Equal("c", data.ItemTokens[data.Targets(0, Split.Test)[0]]);
        Assert.Equal(["a", "b"], data.TrainItems(0).ToArray().Select(i => data.ItemTokens[i]));
    }

    [Fact]
    public void Every_format_is_detected_and_read()
    {
        // Each file has a user with four interactions, the least that leaves a training transition.
        var sasrec = _files.Write("s.txt", "1 10\n1 11\n1 12\n2 10\n2 13\n2 14\n2 15\n");
        var csv = _files.Write("c.csv", "user_id,item_id,rating,timestamp\n1,10,5,3\n1,11,5,1\n1,12,5,2\n2,20,5,1\n2,21,5,2\n2,22,5,3\n2,23,5,4\n");
        var dat = _files.Write("ratings.dat", "1::10::5::300\n1::11::3::100\n1::12::4::200\n2::20::5::1\n2::21::5::2\n2::22::5::3\n2::23::5::4\n");
        Assert.Equal(DataFormat.SasRec, InteractionReader.Detect(sasrec));
        Assert.Equal(DataFormat.Csv, InteractionReader.Detect(csv));
        Assert.Equal(DataFormat.MovieLens, InteractionReader.Detect(dat));
        var s = SequenceDataset.FromInteractions(sasrec, InteractionReader.Read(sasrec).Rows);
        Assert.Equal(2, s.UserCount);
        Assert.Equal(6, s.ItemCount);
        foreach (var path in new[] { csv, dat })
        {
            var d = SequenceDataset.FromInteractions(path, InteractionReader.Read(path).Rows);
            Assert.Equal(["11", "12", "10"], d.Sequences[0].Select(i => d.ItemTokens[i]));
        }
    }

    [Fact]
    public void Format_can_be_overridden()
    {
        var path = _files.Write("pairs.data", "u1\ti1\t7\nu1\ti2\t3\nu1\ti3\t5\n");
        Assert.Throws<DataFormatException>(() => InteractionReader.Read(path, DataFormat.Csv));
        var withHeader = _files.Write("pairs2.data", "user_id\titem_id\ttimestamp\nu1\ti1\t7\nu1\ti2\t3\nu1\ti3\t5\n");
        var rows = InteractionReader.Read(withHeader, DataFormat.Atomic).Rows;
        Assert.Equal(["i2", "i3", "i1"], rows.OrderBy(r => r.Timestamp).Select(r => r.Item));
    }

    [Theory]
    [InlineData("s.txt", "1 10\n1 11 12\n", 2, "expected 'user item'")]
    [InlineData("a.inter", "user_id:token\titem_id:token\ttimestamp:float\nu\ti\t1\nu\ti\tsoon\n", 3, "timestamp 'soon' is not a number")]
    [InlineData("a.inter", "user_id:token\ttimestamp:float\nu\t1\n", 1, "no 'item_id' column")]
    [InlineData("c.csv", "user_id,item_id,timestamp\n1,2,3\n\n1,2\n", 4, "expected 3 fields")]
    [InlineData("r.dat", "1::2::3::4\n1::2::3\n", 2, "UserID::MovieID::Rating::Timestamp")]
    public void Bad_rows_name_the_file_and_line(string name, string content, int line, string message)
    {
        var path = _files.Write(name, content);
        var e = Assert.Throws<DataFormatException>(() => InteractionReader.Read(path));
        Assert.Equal(line, e.Line);
        Assert.Contains(message, e.Message);
        Assert.StartsWith($"{path}:{line}: ", e.Message);
    }

    [Fact]
    public void Empty_file_is_an_error()
    {
        var path = _files.Write("empty.inter", "\n\n");
        var e = Assert.Throws<DataFormatException>(() => InteractionReader.Read(path));
        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void Users_with_fewer_than_three_interactions_are_skipped_and_counted()
    {
        var path = _files.Write("s.txt", "1 10\n1 11\n1 12\n1 13\n2 10\n3 10\n3 11\n");
        var data = SequenceDataset.FromInteractions(path, InteractionReader.Read(path).Rows);
        Assert.Equal(1, data.UserCount);
        Assert.Equal(2, data.SkippedUsers);
        var onlyShort = _files.Write("short.txt", "1 10\n2 10\n");
        var e = Assert.Throws<DataFormatException>(() => SequenceDataset.FromInteractions(onlyShort, InteractionReader.Read(onlyShort).Rows));
        Assert.Contains("at least 4 interactions", e.Message);
    }

    [Fact]
    public void K_core_filtering_iterates_until_stable()
    {
        // Item 99 occurs once; dropping it leaves user 3 with two items, so user 3 goes, which leaves item 13
        // with one use, so it goes too and user 4 falls below three items. User 1 has a fourth item (10 again) to train on.
        var path = _files.Write("s.txt", "1 10\n1 11\n1 12\n2 10\n2 11\n2 12\n3 99\n3 13\n3 10\n4 13\n4 11\n4 12\n1 10\n");
        var data = SequenceDataset.FromInteractions(path, InteractionReader.Read(path).Rows, minUserInteractions: 3, minItemInteractions: 2);
        Assert.Equal(["1", "2"], data.UserTokens);
        Assert.Equal(["[PAD]", "10", "11", "12"], data.ItemTokens);
    }

    [Fact]
    public void Sampling_training_users_is_seeded_and_sized()
    {
        var sequences = Enumerable.Range(0, 100).Select(u => new[] { 1, 2, 3 }).ToList();
        var data = new SequenceDataset("t", sequences, ["[PAD]", "a", "b", "c"], [.. Enumerable.Range(0, 100).Select(i => i.ToString())]);
        var a = data.SampleTrainingUsers(0.3, 5);
        Assert.Equal(30, a.Length);
        Assert.Equal(a, data.SampleTrainingUsers(0.3, 5));
        Assert.NotEqual(a, data.SampleTrainingUsers(0.3, 6));
        Assert.Equal(100, data.SampleTrainingUsers(1.0, 5).Length);
    }

    [Fact]
    public void MovieLens_100k_reads_with_features()
    {
        var path = TempFiles.SharedData("ml-100k.inter");
        var (rows, format) = InteractionReader.Read(path);
        Assert.Equal(DataFormat.Atomic, format);
        Assert.Equal(100_000, rows.Count);
        var data = SequenceDataset.FromInteractions(path, rows);
        Assert.Equal(943, data.UserCount);
        Assert.Equal(1682, data.ItemCount);
        var features = ItemSideInformation.ReadFeatures(TempFiles.SharedData("ml-100k.item"), "class", data);
        Assert.InRange(features.FeatureCount, 18, 20);  // the 19 MovieLens genres
        Assert.Equal(0, features.ItemsWithoutFeatures);
    }

    [Fact]
    public void Pretrained_embeddings_are_read_by_item_token()
    {
        var data = new SequenceDataset("t", [[1, 2, 3]], ["[PAD]", "a", "b", "c"], ["u"]);
        var path = _files.Write("v.txt", "3 2\nb 1.5 2\na -1 0.25\nzz 9 9\n");
        var (vectors, dim, missing) = ItemSideInformation.ReadEmbeddings(path, data);
        Assert.Equal(2, dim);
        Assert.Equal(1, missing);
        Assert.Equal([0f, 0f, -1f, 0.25f, 1.5f, 2f, 0f, 0f], vectors);
        var bad = _files.Write("bad.txt", "a 1 2\nb 1\n");
        Assert.Equal(2, Assert.Throws<DataFormatException>(() => ItemSideInformation.ReadEmbeddings(bad, data)).Line);
    }

    [Fact]
    public void Data_where_no_user_has_a_training_transition_is_an_input_error()
    {
        var path = _files.Write("three.txt", "1 10\n1 11\n1 12\n2 10\n2 11\n2 12\n");
        var e = Assert.Throws<DataFormatException>(() => SequenceDataset.FromInteractions(path, InteractionReader.Read(path).Rows));
        Assert.StartsWith($"{path}: no user has at least 4 interactions", e.Message);
        Assert.Contains("one training transition", e.Message);
        var synthetic = new SyntheticConfig(Users: 20, Items: 40, Clusters: 2, MinLength: 3, MaxLength: 3, MarkovWeight: 0.5, Seed: 1);
        var generated = Assert.Throws<DataFormatException>(() => new SyntheticGenerator(synthetic));
        Assert.StartsWith("data.synthetic: no user has at least 4", generated.Message);
    }

    [Fact]
    public void Text_from_a_binary_file_is_quoted_escaped_and_shortened()
    {
        var path = Path.Combine(_files.Folder, "b.csv");
        File.WriteAllBytes(path, [(byte)'f', 0x00, 0x01, 0xff, 0x1b, (byte)'\t', .. Enumerable.Repeat((byte)'x', 200), (byte)'\n']);
        var e = Assert.Throws<DataFormatException>(() => InteractionReader.Read(path));
        Assert.Contains("(columns: 'f\\x00\\x01\\ufffd\\x1b\\txxx", e.Message);
        Assert.Contains($"{new string('x', FileText.MaxLength - 6)}'…)", e.Message);
        Assert.DoesNotContain(e.Message, char.IsControl);
    }

    [Theory]
    [InlineData("plain", "'plain'")]
    [InlineData("it's a\\b", "'it\\'s a\\\\b'")]
    [InlineData("ユーザー\u00e9", "'ユーザーé'")]
    [InlineData("\u2028\ue000", "'\\u2028\\ue000'")]
    public void File_text_keeps_printable_characters_and_escapes_the_rest(string raw, string shown) => Assert.Equal(shown, FileText.Quote(raw));

    [Fact]
    public void File_text_is_cut_after_sixty_characters_and_lists_after_eight_values()
    {
        Assert.Equal($"'{new string('a', 60)}'", FileText.Quote(new string('a', 60)));
        Assert.Equal($"'{new string('a', 60)}'…", FileText.Quote(new string('a', 61)));
        Assert.Equal("'0', '1', '2', '3', '4', '5', '6', '7', … (10 in all)",
            FileText.QuoteAll([.. Enumerable.Range(0, 10).Select(i => i.ToString())]));
    }
}
