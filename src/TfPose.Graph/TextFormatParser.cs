using System.Collections;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace TfPose.Graph;

/// <summary>
/// Parses the protobuf text format (what <c>tf.io.write_graph(..., as_text=True)</c> writes) into any
/// generated message, driven by the message descriptors. Google.Protobuf for C# reads JSON and binary
/// only, and TensorFlow's training graphs are commonly shipped as text.
/// </summary>
public sealed class TextFormatParser
{
    /// <summary>
    /// How deeply messages may nest, as in protobuf's own parsers (its binary and text readers default to 100). The parser
    /// recurses once per level, so without a bound a hostile file of a few thousand nested or unclosed blocks overflows the
    /// stack, which .NET cannot catch: the process dies. Real graphs nest a dozen levels (function → node → attr → list).
    /// </summary>
    public const int MaxDepth = 100;

    private readonly string _text;
    private readonly string _source;
    private int _pos;
    private int _depth;

    private TextFormatParser(string text, string source)
    {
        _text = text;
        _source = source;
    }

    public static T Parse<T>(string text, string source) where T : IMessage<T>, new()
    {
        var message = new T();
        var parser = new TextFormatParser(text, source);
        parser.ParseFields(message, endToken: null);
        return message;
    }

    /// <summary>True when the bytes look like text format rather than binary protobuf.</summary>
    public static bool LooksLikeText(ReadOnlySpan<byte> head)
    {
        var i = 0;
        while (i < head.Length && (head[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            i++;
        if (i < head.Length && head[i] == (byte)'#')
            return true;
        var start = i;
        while (i < head.Length && (char.IsAsciiLetterOrDigit((char)head[i]) || head[i] == (byte)'_'))
            i++;
        if (i == start || !char.IsAsciiLetter((char)head[start]))
            return false;
        while (i < head.Length && (head[i] is (byte)' ' or (byte)'\t'))
            i++;
        return i < head.Length && head[i] is (byte)'{' or (byte)':' or (byte)'<';
    }

    private void ParseFields(IMessage message, string? endToken)
    {
        var descriptor = message.Descriptor;
        while (true)
        {
            SkipWhitespace();
            if (_pos >= _text.Length)
            {
                if (endToken is not null)
                    throw Error($"expected '{endToken}' before the end of the file");
                return;
            }
            if (endToken is not null && Peek(endToken))
            {
                _pos += endToken.Length;
                return;
            }
            var name = ReadIdentifier();
            var field = descriptor.FindFieldByName(name)
                ?? throw Error($"{descriptor.Name} has no field '{name}'");
            SkipWhitespace();
            var hasColon = TryConsume(":");
            SkipWhitespace();
            if (field.IsMap)
            {
                ReadMapEntry(message, field);
            }
            else if (field.FieldType is FieldType.Message or FieldType.Group)
            {
                if (TryConsume("["))
                {
                    SkipWhitespace();
                    while (!TryConsume("]"))
                    {
                        AddMessage(message, field);
                        SkipWhitespace();
                        TryConsume(",");
                        SkipWhitespace();
                    }
                }
                else
                {
                    AddMessage(message, field);
                }
            }
            else
            {
                if (!hasColon)
                    throw Error($"expected ':' after '{name}'");
                if (TryConsume("["))
                {
                    SkipWhitespace();
                    while (!TryConsume("]"))
                    {
                        SetScalar(message, field, ReadScalar(field));
                        SkipWhitespace();
                        TryConsume(",");
                        SkipWhitespace();
                    }
                }
                else
                {
                    SetScalar(message, field, ReadScalar(field));
                }
            }
            SkipWhitespace();
            if (!TryConsume(","))
                TryConsume(";");
        }
    }

    /// <summary>Parses one nested message's fields up to <paramref name="close"/>, one level deeper, within <see cref="MaxDepth"/>.</summary>
    private void ParseNested(IMessage child, string close)
    {
        EnterLevel();
        ParseFields(child, close);
        _depth--;
    }

    // No matching decrement on a throw: a parser object reads one text and is dropped at its first error.
    private void EnterLevel()
    {
        if (_depth >= MaxDepth)
            throw Error($"messages nested more than {MaxDepth} levels deep (protobuf's recursion limit); the file is corrupt or hostile");
        _depth++;
    }

    private void AddMessage(IMessage parent, FieldDescriptor field)
    {
        var close = OpenBlock();
        if (field.IsRepeated)
        {
            var child = (IMessage)Activator.CreateInstance(field.MessageType.ClrType)!;
            ParseNested(child, close);
            ((IList)field.Accessor.GetValue(parent)).Add(child);
        }
        else
        {
            var child = (IMessage?)field.Accessor.GetValue(parent);
            if (child is null)
            {
                child = (IMessage)Activator.CreateInstance(field.MessageType.ClrType)!;
                field.Accessor.SetValue(parent, child);
            }
            ParseNested(child, close);
        }
    }

    private void ReadMapEntry(IMessage parent, FieldDescriptor field)
    {
        var keyField = field.MessageType.FindFieldByNumber(1);
        var valueField = field.MessageType.FindFieldByNumber(2);
        var close = OpenBlock();
        // A map entry is a message of its own (key, value), and protobuf counts it as a level.
        EnterLevel();
        object? key = null;
        object? value = null;
        while (true)
        {
            SkipWhitespace();
            if (TryConsume(close))
                break;
            var name = ReadIdentifier();
            SkipWhitespace();
            TryConsume(":");
            SkipWhitespace();
            if (name == "key")
            {
                key = ReadScalar(keyField);
            }
            else if (name == "value")
            {
                if (valueField.FieldType == FieldType.Message)
                {
                    var child = (IMessage)Activator.CreateInstance(valueField.MessageType.ClrType)!;
                    ParseNested(child, OpenBlock());
                    value = child;
                }
                else
                {
                    value = ReadScalar(valueField);
                }
            }
            else
            {
                throw Error($"map entry has no field '{name}'");
            }
            SkipWhitespace();
            TryConsume(",");
        }
        if (key is null)
            throw Error($"map entry of '{field.Name}' has no key");
        value ??= valueField.FieldType == FieldType.Message
            ? Activator.CreateInstance(valueField.MessageType.ClrType)
            : DefaultScalar(valueField);
        ((IDictionary)field.Accessor.GetValue(parent))[key] = value;
        _depth--;
    }

    private static object DefaultScalar(FieldDescriptor field) => field.FieldType switch
    {
        FieldType.String => "",
        FieldType.Bytes => ByteString.Empty,
        FieldType.Bool => false,
        _ => 0,
    };

    private string OpenBlock()
    {
        if (TryConsume("{"))
            return "}";
        if (TryConsume("<"))
            return ">";
        throw Error("expected '{'");
    }

    private static void SetScalar(IMessage message, FieldDescriptor field, object value)
    {
        if (field.IsRepeated)
            ((IList)field.Accessor.GetValue(message)).Add(value);
        else
            field.Accessor.SetValue(message, value);
    }

    private object ReadScalar(FieldDescriptor field)
    {
        switch (field.FieldType)
        {
            case FieldType.String:
                return Encoding.UTF8.GetString(ReadStringBytes());
            case FieldType.Bytes:
                return ByteString.CopyFrom(ReadStringBytes());
            case FieldType.Enum:
            {
                var token = ReadToken();
                var value = int.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
                    ? field.EnumType.FindValueByNumber(number)
                    : field.EnumType.FindValueByName(token);
                if (value is null)
                    throw Error($"'{token}' is not a value of {field.EnumType.Name}");
                return Enum.ToObject(field.EnumType.ClrType, value.Number);
            }
            case FieldType.Bool:
            {
                var token = ReadToken();
                return token switch
                {
                    "true" or "True" or "t" or "1" => true,
                    "false" or "False" or "f" or "0" => false,
                    _ => throw Error($"'{token}' is not a bool"),
                };
            }
            case FieldType.Float:
                return (float)ParseDouble(ReadToken());
            case FieldType.Double:
                return ParseDouble(ReadToken());
            case FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32:
                return checked((int)ParseInteger(ReadToken()));
            case FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64:
                return ParseInteger(ReadToken());
            case FieldType.UInt32 or FieldType.Fixed32:
                return checked((uint)ParseInteger(ReadToken()));
            case FieldType.UInt64 or FieldType.Fixed64:
                return ulong.Parse(ReadToken(), CultureInfo.InvariantCulture);
            default:
                throw Error($"field type {field.FieldType} is not supported in text format");
        }
    }

    private double ParseDouble(string token)
    {
        var t = token.TrimEnd('f', 'F');
        switch (t.ToLowerInvariant())
        {
            case "inf" or "infinity": return double.PositiveInfinity;
            case "-inf" or "-infinity": return double.NegativeInfinity;
            case "nan": return double.NaN;
        }
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            throw Error($"'{token}' is not a number");
        return value;
    }

    private long ParseInteger(string token)
    {
        var negative = token.StartsWith('-');
        var body = negative ? token[1..] : token;
        long value;
        if (body.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            value = long.Parse(body[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        else if (!long.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out value))
            throw Error($"'{token}' is not an integer");
        return negative ? -value : value;
    }

    private byte[] ReadStringBytes()
    {
        var bytes = new List<byte>();
        var any = false;
        while (true)
        {
            SkipWhitespace();
            if (_pos >= _text.Length || (_text[_pos] != '"' && _text[_pos] != '\''))
                break;
            any = true;
            var quote = _text[_pos++];
            while (true)
            {
                if (_pos >= _text.Length)
                    throw Error("unterminated string");
                var c = _text[_pos++];
                if (c == quote)
                    break;
                if (c != '\\')
                {
                    if (c < 0x80)
                        bytes.Add((byte)c);
                    else
                        bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
                    continue;
                }
                if (_pos >= _text.Length)
                    throw Error("unterminated escape");
                var e = _text[_pos++];
                switch (e)
                {
                    case 'n': bytes.Add((byte)'\n'); break;
                    case 't': bytes.Add((byte)'\t'); break;
                    case 'r': bytes.Add((byte)'\r'); break;
                    case 'a': bytes.Add(7); break;
                    case 'b': bytes.Add(8); break;
                    case 'f': bytes.Add(12); break;
                    case 'v': bytes.Add(11); break;
                    case 'x':
                    {
                        var start = _pos;
                        while (_pos < _text.Length && _pos - start < 2 && Uri.IsHexDigit(_text[_pos]))
                            _pos++;
                        if (_pos == start)
                            throw Error("\\x escape without hex digits");
                        bytes.Add(Convert.ToByte(_text[start.._pos], 16));
                        break;
                    }
                    case >= '0' and <= '7':
                    {
                        var value = e - '0';
                        for (var k = 0; k < 2 && _pos < _text.Length && _text[_pos] is >= '0' and <= '7'; k++)
                            value = value * 8 + (_text[_pos++] - '0');
                        bytes.Add((byte)value);
                        break;
                    }
                    default: bytes.Add((byte)e); break;
                }
            }
        }
        if (!any)
            throw Error("expected a quoted string");
        return [.. bytes];
    }

    private string ReadIdentifier()
    {
        var start = _pos;
        while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] is '_' or '.' or '/'))
            _pos++;
        if (start == _pos)
            throw Error($"expected a field name but found '{Snippet()}'");
        return _text[start.._pos];
    }

    private string ReadToken()
    {
        SkipWhitespace();
        var start = _pos;
        while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] is '_' or '.' or '-' or '+'))
            _pos++;
        if (start == _pos)
            throw Error($"expected a value but found '{Snippet()}'");
        return _text[start.._pos];
    }

    private void SkipWhitespace()
    {
        while (_pos < _text.Length)
        {
            var c = _text[_pos];
            if (c == '#')
            {
                while (_pos < _text.Length && _text[_pos] != '\n')
                    _pos++;
            }
            else if (char.IsWhiteSpace(c))
            {
                _pos++;
            }
            else
            {
                return;
            }
        }
    }

    private bool Peek(string token) => string.CompareOrdinal(_text, _pos, token, 0, token.Length) == 0;

    private bool TryConsume(string token)
    {
        if (!Peek(token))
            return false;
        _pos += token.Length;
        return true;
    }

    private string Snippet() => _text.Substring(_pos, Math.Min(20, _text.Length - _pos));

    private GraphFormatException Error(string problem)
    {
        var line = 1;
        var column = 1;
        for (var i = 0; i < _pos && i < _text.Length; i++)
        {
            if (_text[i] == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }
        return new GraphFormatException(_source, $"protobuf text format, line {line} column {column}: {problem}");
    }
}
