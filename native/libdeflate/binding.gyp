{
  "targets": [
    {
      "target_name": "vmxfer_libdeflate",
      "sources": ["vmxfer_libdeflate.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "libraries": ["-ldeflate"]
    }
  ]
}
