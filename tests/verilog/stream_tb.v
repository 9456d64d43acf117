// A plain Verilog testbench for the emitted core, written as a user would write one:
// no cocotb, reset held high from time 0 (a declaration initialiser, so no event on
// rst ever happens before it falls), a sample offered all through reset, and the
// consumer stalling o__ready on about 40% of cycles.
//
// Defines (iverilog -D): TOP (the core's module), IN_W, OUT_W, CLS_W (port widths),
// N (samples). Plusargs: +payloads=FILE +expected=FILE (hex, one per line),
// +stall=PERCENT (default 40), +seed=N.
// It prints one line "RESULT checked=.. mismatches=.. lost=.. dup=.. x_cycles=..
// ready_in_reset=.. valid_in_reset=.. cycles=.." and finishes.
`timescale 1ns/1ps
module stream_tb;
  reg clk = 1'b0;
  reg rst = 1'b1;  // held from time 0, the way most testbenches start
  reg i_valid = 1'b0;
  reg [`IN_W-1:0] i_payload = 0;
  reg o_ready = 1'b0;
  wire i_ready, o_valid;
  wire [`OUT_W-1:0] o_payload;

  `TOP dut (.clk(clk), .rst(rst), .i__valid(i_valid), .i__ready(i_ready),
            .i__payload(i_payload), .o__valid(o_valid), .o__ready(o_ready),
            .o__payload(o_payload));

  reg [`IN_W-1:0] payloads [0:`N-1];
  reg [`CLS_W-1:0] expected [0:`N-1];
  reg [1023:0] path;
  integer stall, seed, sent, got, mismatches, dup, x_cycles, ready_in_reset, valid_in_reset;
  integer cycle, idle;

  always #5 clk = ~clk;

  initial begin
    if (!$value$plusargs("payloads=%s", path)) $fatal(1, "no +payloads=");
    $readmemh(path, payloads);
    if (!$value$plusargs("expected=%s", path)) $fatal(1, "no +expected=");
    $readmemh(path, expected);
    if (!$value$plusargs("stall=%d", stall)) stall = 40;
    if (!$value$plusargs("seed=%d", seed)) seed = 1;
    sent = 0; got = 0; mismatches = 0; dup = 0; x_cycles = 0;
    ready_in_reset = 0; valid_in_reset = 0; cycle = 0; idle = 0;
  end

  // Everything is sampled and driven at the rising edge with non-blocking writes: the
  // core samples the values from before the edge, as the testbench does.
  always @(posedge clk) begin
    cycle <= cycle + 1;
    if (i_ready === 1'bx || o_valid === 1'bx) x_cycles <= x_cycles + 1;
    if (rst) begin
      if (i_valid && i_ready === 1'b1 && cycle > 0) ready_in_reset <= ready_in_reset + 1;
      if (o_valid === 1'b1 && cycle > 0) valid_in_reset <= valid_in_reset + 1;
      if (cycle == 8) rst <= 1'b0;
      i_valid <= 1'b1;  // offered during reset: must not be taken
      i_payload <= payloads[0];
    end else begin
      if (i_valid && i_ready === 1'b1) begin
        sent = sent + 1;
        i_valid <= sent < `N;
        if (sent < `N) i_payload <= payloads[sent];
      end
      if (o_ready && o_valid === 1'b1) begin
        if (got >= sent) dup = dup + 1;
        else if (o_payload[`CLS_W-1:0] !== expected[got]) mismatches = mismatches + 1;
        got = got + 1;
        idle = 0;
      end else idle = idle + 1;
      if ((got >= `N && sent >= `N) || idle > 4000) begin
        $display("RESULT checked=%0d mismatches=%0d lost=%0d dup=%0d x_cycles=%0d ready_in_reset=%0d valid_in_reset=%0d cycles=%0d",
                 got, mismatches, sent - got, dup, x_cycles, ready_in_reset, valid_in_reset,
                 cycle);
        $finish;
      end
    end
    o_ready <= ({$random(seed)} % 100) >= stall;
  end
endmodule
