{
  "targets": [
    {
      "target_name": "fs_append_only",
      "sources": ["src/addon.cc", "src/background_writer.cc", "src/engine.cc", "src/engine_napi.cc", "src/errors.cc", "src/proc_parse.cc", "src/record_buffer.cc", "src/scan.cc", "src/scan_napi.cc"],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags": ["-fvisibility=hidden"],
      "cflags_cc": ["-fvisibility=hidden", "-std=c++17"],
      "conditions": [
        ["OS=='linux'", {
          "sources": ["src/flags_linux.cc", "src/probe_linux.cc", "src/lock_posix.cc"]
        }],
        ["OS=='mac' or OS=='freebsd'", {
          "sources": ["src/flags_bsd.cc", "src/probe_bsd.cc", "src/lock_posix.cc"]
        }],
        ["OS=='win'", {
          "sources": ["src/flags_unsupported.cc", "src/lock_win.cc"]
        }],
        ["OS!='linux' and OS!='mac' and OS!='freebsd' and OS!='win'", {
          "sources": ["src/flags_unsupported.cc", "src/lock_unsupported.cc"]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "MACOSX_DEPLOYMENT_TARGET": "10.15",
            "OTHER_CFLAGS": ["-arch x86_64", "-arch arm64"],
            "OTHER_LDFLAGS": ["-arch x86_64", "-arch arm64"]
          }
        }]
      ]
    }
  ]
}
