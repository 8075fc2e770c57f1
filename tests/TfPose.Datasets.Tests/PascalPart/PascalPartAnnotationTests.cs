using OpenCvSharp;
using TfPose.Datasets.PascalPart;
using TfPose.Tests;

namespace TfPose.Datasets.Tests.PascalPart;

public class PascalPartAnnotationTests
{
    internal static string Annotation(string name) => SharedData.Path("data", "pascal-part", "Annotations_Part", name + ".mat");

    internal static string Jpeg(string name) => SharedData.Path("data", "pascal-part", "JPEGImages", name + ".jpg");

    public static TheoryData<string> AllFiles()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(SharedData.Path("data", "pascal-part", "Annotations_Part"), "*.mat").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileNameWithoutExtension(f));
        return data;
    }

    [Fact]
    public void There_are_22_annotation_files()
    {
        Assert.Equal(22, AllFiles().Count);
    }

    [Theory]
    [MemberData(nameof(AllFiles))]
    public void Every_mask_has_its_images_size(string name)
    {
        var anno = PascalPartAnnotation.Load(Annotation(name));
        using var image = Cv2.ImRead(Jpeg(name), ImreadModes.Color);

        Assert.Equal(name, anno.ImageName);
        Assert.NotEmpty(anno.Objects);
        foreach (var o in anno.Objects)
        {
            Assert.Equal((image.Rows, image.Cols), (o.Mask.Height, o.Mask.Width));
            Assert.True(o.Mask.PixelCount > 0, $"{o.ClassName} has an empty mask");
            foreach (var p in o.Parts)
            {
                Assert.Equal((image.Rows, image.Cols), (p.Mask.Height, p.Mask.Width));
                // A part lies inside its object.
                for (var i = 0; i < p.Mask.Data.Length; i++)
                    if (p.Mask.Data[i] != 0)
                        Assert.True(o.Mask.Data[i] != 0, $"{o.ClassName}/{p.Name} pixel {i} outside its object");
            }
        }
    }

    // Expected values below were read from the files with an independent throwaway parser (Python zlib +
    // struct) and the JPEG sizes, not from this library.
    [Fact]
    public void Person_and_horse_file_matches_its_contents()
    {
        var anno = PascalPartAnnotation.Load(Annotation("2008_000008"));

        Assert.Equal((442, 500), (anno.Height, anno.Width));
        Assert.Equal(["person", "horse"], anno.Objects.Select(o => o.ClassName));
        Assert.Equal([15, 13], anno.Objects.Select(o => o.ClassIndex));
        Assert.Equal([6670, 38559], anno.Objects.Select(o => o.Mask.PixelCount));
        Assert.Equal(
            ["head", "lear", "leye", "lebrow", "mouth", "hair", "nose", "torso", "neck", "llarm", "luarm", "llleg", "luleg", "ruleg"],
            anno.Objects[0].Parts.Select(p => p.Name));
        Assert.Equal(
            ["head", "lear", "rear", "muzzle", "torso", "neck", "lflleg", "lfuleg", "lfho", "lblleg", "lbuleg", "lbho", "tail"],
            anno.Objects[1].Parts.Select(p => p.Name));
    }

    // All 22 files: object classes and part counts per object, read with the same independent parser.
    [Theory]
    [InlineData("2008_000008", "person,horse", "14,13")]
    [InlineData("2008_000009", "cow,cow", "13,8")]
    [InlineData("2008_000019", "dog,dog,dog", "10,16,13")]
    [InlineData("2008_000026", "person,dog", "20,12")]
    [InlineData("2008_000652", "person", "18")]
    [InlineData("2008_000700", "person", "21")]
    [InlineData("2008_000726", "person,person", "3,13")]
    [InlineData("2008_000939", "person,car", "7,8")]
    [InlineData("2008_001978", "bird", "1")]
    [InlineData("2008_003228", "person,person,person,cat", "5,16,14,6")]
    [InlineData("2008_003497", "dog,dog", "12,13")]
    [InlineData("2008_005643", "dog", "16")]
    [InlineData("2008_006462", "cat", "9")]
    [InlineData("2009_001103", "person,person,tvmonitor,bottle,bottle,bottle", "4,18,0,2,2,2")]
    [InlineData("2010_000145", "boat", "0")]
    [InlineData("2010_001199", "chair,chair,table,chair,chair", "0,0,0,0,0")]
    [InlineData("2010_002065", "aeroplane", "12")]
    [InlineData("2010_002526", "tvmonitor,person,tvmonitor,person,person", "1,8,1,9,15")]
    [InlineData("2010_003057", "car,car,car,car,bus", "6,7,9,4,9")]
    [InlineData("2010_005243", "person,person,person,person,person,person,chair,chair,chair,tvmonitor,horse", "11,11,9,21,16,7,0,0,0,1,16")]
    [InlineData("2010_005275", "cat", "15")]
    [InlineData("2010_005511", "bird,bird,bird", "7,7,6")]
    public void Object_classes_and_part_counts_match_for_every_file(string name, string classes, string partCounts)
    {
        var anno = PascalPartAnnotation.Load(Annotation(name));
        Assert.Equal(classes, string.Join(",", anno.Objects.Select(o => o.ClassName)));
        Assert.Equal(partCounts, string.Join(",", anno.Objects.Select(o => o.Parts.Count)));
    }

    [Fact]
    public void Objects_without_parts_load_with_an_empty_part_list()
    {
        var boat = PascalPartAnnotation.Load(Annotation("2010_000145"));
        var o = Assert.Single(boat.Objects);
        Assert.Equal(("boat", 4, 17190), (o.ClassName, o.ClassIndex, o.Mask.PixelCount));
        Assert.Empty(o.Parts);

        var furniture = PascalPartAnnotation.Load(Annotation("2010_001199"));
        Assert.Equal(["chair", "chair", "table", "chair", "chair"], furniture.Objects.Select(x => x.ClassName));
        Assert.All(furniture.Objects, x => Assert.Empty(x.Parts));
        Assert.Equal([3199, 2881, 15509, 11518, 9991], furniture.Objects.Select(x => x.Mask.PixelCount));
    }

    [Fact]
    public void Eleven_object_file_has_the_right_objects_and_part_counts()
    {
        var anno = PascalPartAnnotation.Load(Annotation("2010_005243"));

        Assert.Equal(
            ["person", "person", "person", "person", "person", "person", "chair", "chair", "chair", "tvmonitor", "horse"],
            anno.Objects.Select(o => o.ClassName));
        Assert.Equal([11, 11, 9, 21, 16, 7, 0, 0, 0, 1, 16], anno.Objects.Select(o => o.Parts.Count));
        Assert.Equal([4647, 1134, 9267, 7657], anno.Objects.Take(4).Select(o => o.Mask.PixelCount));
    }

    [Fact]
    public void Numbered_vehicle_parts_and_portrait_images_load()
    {
        var car = PascalPartAnnotation.Load(Annotation("2008_000939"));
        Assert.Equal(["bliplate", "backside", "rightside", "door_1", "wheel_1", "wheel_2", "window_1", "window_2"],
            car.Objects[1].Parts.Select(p => p.Name));
        Assert.Equal(77480, car.Objects[1].Mask.PixelCount);

        var portrait = PascalPartAnnotation.Load(Annotation("2010_002526"));
        Assert.Equal((500, 329), (portrait.Height, portrait.Width));
        Assert.Equal(["tvmonitor", "person", "tvmonitor", "person", "person"], portrait.Objects.Select(o => o.ClassName));
    }

    [Fact]
    public void Json_summary_has_the_documented_fields()
    {
        var json = PascalPartSummary.Of(PascalPartAnnotation.Load(Annotation("2008_001978"))).ToJson();
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var root = doc.RootElement;

        Assert.Equal("2008_001978", root.GetProperty("image").GetString());
        var bird = Assert.Single(root.GetProperty("objects").EnumerateArray());
        Assert.Equal("bird", bird.GetProperty("class").GetString());
        Assert.Equal(3, bird.GetProperty("classIndex").GetInt32());
        Assert.Equal(375, bird.GetProperty("maskHeight").GetInt32());
        Assert.Equal(500, bird.GetProperty("maskWidth").GetInt32());
        Assert.Equal(250, bird.GetProperty("pixels").GetInt32());
        var torso = Assert.Single(bird.GetProperty("parts").EnumerateArray());
        Assert.Equal("torso", torso.GetProperty("name").GetString());
        Assert.InRange(torso.GetProperty("pixels").GetInt32(), 1, 250);
    }

    [Fact]
    public void A_mat_file_that_is_not_an_annotation_is_reported_by_path()
    {
        var m = new Mat.MatBytes(false);
        var path = Path.Combine(Path.GetTempPath(), $"notanno-{Guid.NewGuid():N}.mat");
        File.WriteAllBytes(path, m.File(m.Numeric(Mat.MatBytes.MxDouble, [1, 1], "x", Mat.MatBytes.MiDouble, [1])));
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => PascalPartAnnotation.Load(path));
            Assert.Contains(path, ex.Message);
            Assert.Contains("'anno'", ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
