// botscope sample YARA rules for IRC bot specimens.
// Source: written for botscope (no third-party rules copied); date 2026-11-22.
// Targets the synthetic specimens of botscope-synth and the generic traits
// of 2005-era IRC bots (command templates, UPX packing). Needs the pe module.

import "pe"

rule irc_bot_templates_ascii
{
    meta:
        description = "IRC command templates of a bot config, ASCII"
    strings:
        $privmsg = "PRIVMSG %s :%s"
        $join = "JOIN %s %s"
        $nick = "NICK %s"
    condition:
        uint16(0) == 0x5A4D and 2 of them
}

rule irc_bot_templates_wide
{
    meta:
        description = "IRC command templates of a bot config, UTF-16LE"
    strings:
        $privmsg = "PRIVMSG %s :%s" wide
        $join = "JOIN %s %s" wide
    condition:
        uint16(0) == 0x5A4D and all of them
}

rule upx_packed_winsock
{
    meta:
        description = "UPX-packed PE that imports Winsock (typical of packed bots)"
    condition:
        pe.number_of_sections >= 2
        and pe.sections[0].name == "UPX0"
        and pe.sections[1].name == "UPX1"
        and pe.imports("ws2_32.dll") > 0
}
