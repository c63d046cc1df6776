# fuzz/fuzz.mk — the libFuzzer targets; included at the end of the Makefile.
#   make fuzz-build                       build every target (clang, ASan+UBSan+libFuzzer) under build/fuzz/
#   make fuzz-smoke [FUZZ_SECONDS=30]     build, then run each target for FUZZ_SECONDS from its seed corpus;
#                                         a finding fails it and leaves the input and its scenario in out/fuzz/
#   make fuzz TARGET=NAME [FUZZ_SECONDS=N] [FUZZ_JOBS=N]
#                                         a long run of one target (until stopped, unless FUZZ_SECONDS is given)
#   make fuzz-planted [FUZZ_SECONDS=30] [FUZZ_PLANTED_SEED=1]
#                                         the planted-bug test (fuzz/planted.sh): fuzz_split_device with the
#                                         mutant dev.no-loop-check must find it within FUZZ_SECONDS, and its
#                                         crash must replay as a scenario that fails the same way; fuzz-smoke runs it
# The library is built a second time, with the fuzzers' instrumentation, from
# the same sources as libvirtiosim (every sim/*.c, backend-model/*.c, ...).
# Details: fuzz/README.md.

FUZZ_CC      ?= clang
FUZZ_BUILD   := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# -Wno-error: a warning is `make test`'s business (it builds with clang too);
# here it must not hide what the fuzzers would find
FUZZ_CFLAGS  := $(CFLAGS_BASE) -Wno-error -O1 $(FUZZ_SAN)
FUZZ_TARGETS := fuzz_split_device fuzz_packed_device fuzz_split_driver fuzz_packed_driver fuzz_scenario \
                fuzz_blk_request fuzz_vhost_user fuzz_net_request fuzz_gpu_request fuzz_console_request \
                fuzz_input_request
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(LIB_SRC))
FUZZ_BINS    := $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS))
FUZZ_SECONDS ?= 30
FUZZ_RSS_MB  ?= 2048
FUZZ_JOBS    ?= 1
FUZZ_PLANTED_SEED ?= 1
FUZZ_PLANTED  = FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_CLI=$(BUILD)/virtio-sim FUZZ_RSS_MB=$(FUZZ_RSS_MB) \
                sh fuzz/planted.sh $(FUZZ_SECONDS) $(FUZZ_PLANTED_SEED)

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-planted

$(FUZZ_BUILD)/obj/%.o: %.c $(wildcard include/virtiosim/*.h) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/libvirtiosim-fuzz.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BINS): $(FUZZ_BUILD)/%: fuzz/%.c fuzz/fuzz_common.h $(FUZZ_BUILD)/libvirtiosim-fuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libvirtiosim-fuzz.a $(LDLIBS)

fuzz-build: deps $(FUZZ_BINS)

fuzz-smoke: deps all fuzz-build
	FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_CLI=$(BUILD)/virtio-sim FUZZ_RSS_MB=$(FUZZ_RSS_MB) \
	  sh fuzz/run_fuzz.sh smoke $(FUZZ_SECONDS) $(FUZZ_TARGETS)
	$(FUZZ_PLANTED)

fuzz-planted: deps all $(FUZZ_BUILD)/fuzz_split_device
	$(FUZZ_PLANTED)

fuzz: deps all fuzz-build
	@case " $(FUZZ_TARGETS) " in *" $(TARGET) "*) ;; *) \
	  echo "usage: make fuzz TARGET=NAME [FUZZ_SECONDS=N] [FUZZ_JOBS=N]; NAME is one of: $(FUZZ_TARGETS)" >&2; exit 2;; esac
	FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_CLI=$(BUILD)/virtio-sim FUZZ_RSS_MB=$(FUZZ_RSS_MB) FUZZ_JOBS=$(FUZZ_JOBS) \
	  sh fuzz/run_fuzz.sh long $(if $(filter command line environment,$(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),0) $(TARGET)
