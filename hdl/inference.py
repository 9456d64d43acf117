"""The ``Inference`` top: feature integers in, class id out, one sample per clock.

Input and output are :mod:`amaranth.lib.stream` interfaces. The pipeline never
stalls: every register moves on every clock, with no enable. Results enter a small
output buffer, and ``i.ready`` is credit-based: a sample is accepted only while the
samples in flight plus those waiting in the buffer are fewer than the buffer's
depth, so under back-pressure nothing is dropped or duplicated. An enable fanning
out to every flip-flop of the pipeline used to be the ECP5 critical path (173.6 MHz;
218 MHz without it).

A valid bit travels beside the data and resets to 0, so after reset nothing valid
emerges until real input arrives. Only those valid bits, the FIFO and the credit
counter have a reset: data registers are ``reset_less``, which keeps a high-fanout
reset net off thousands of flip-flops.
"""

from __future__ import annotations

from amaranth import Const, Module, Mux, Signal
from amaranth.lib.memory import Memory
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..netlist import Netlist
from .readout import ReadoutTree
from .stages import Encoder, LutLayerStage

__all__ = ["Inference", "feature_layout", "output_layout"]

OUTPUT_BUFFER_LATENCY = 1


def feature_layout(net: Netlist) -> data.StructLayout:
    """The input payload: one unsigned field ``x{f}`` per feature, feature 0 lowest."""
    return data.StructLayout({f"x{f}": int(b) for f, b in enumerate(net.quantizer.bits)})


def output_layout(readout: ReadoutTree, with_scores: bool) -> data.StructLayout:
    fields = {"cls": readout.class_width}
    if with_scores:
        fields["scores"] = data.ArrayLayout(readout.score_width, len(readout.scores))
    return data.StructLayout(fields)


def _count(m: Module, code: Signal, up, down) -> None:
    """Step a thermometer count (``len(code)`` flip-flops, bit i set while the count
    exceeds i): one LUT level per bit, no carry chain, no compare."""
    n = len(code)
    for i in range(n):
        below = code[i - 1] if i > 0 else 1
        above = code[i + 1] if i + 1 < n else 0
        with m.If(up & ~down):
            m.d.sync += code[i].eq(below)
        with m.Elif(down & ~up):
            m.d.sync += code[i].eq(above)


class Inference(wiring.Component):
    """The whole network as a streaming pipeline.

    Parameters
    ----------
    net : Netlist
    layers_per_stage : int
        Put a register after every this many layers (and always after the last).
    readout_stages : int or None
        Registers in the popcount/argmax tree (see :class:`ReadoutTree`).
    with_scores : bool
        Add every class's popcount to the output payload.

    Attributes
    ----------
    i : In(stream.Signature(feature_layout(net)))
    o : Out(stream.Signature(StructLayout({"cls", ["scores"]})))
    registered_layers : list of bool
        Whether each layer's outputs are registered (a pipeline stage).
    latency : int
        Cycles from a sample's acceptance to its result being valid (no stalls).
    """

    def __init__(self, net: Netlist, *, layers_per_stage: int = 1,
                 readout_stages: int | None = None, with_scores: bool = False):
        if layers_per_stage < 1:
            raise ValueError(f"layers_per_stage = {layers_per_stage}: expected >= 1")
        self._net = net
        n_layers = len(net.layers)
        self.registered_layers = [(i + 1) % layers_per_stage == 0 or i == n_layers - 1
                            for i in range(n_layers)]
        self.readout = ReadoutTree(net.readout, net.layers[-1].n_nodes, stages=readout_stages,
                                   with_scores=with_scores)
        self._with_scores = with_scores
        self.pipeline_latency = 1 + sum(self.registered_layers) + self.readout.latency
        # the output buffer: a result written on one edge is offered after it
        self.latency = self.pipeline_latency + OUTPUT_BUFFER_LATENCY
        # enough credits that a full-rate stream never sees i.ready low (at full rate
        # `latency` samples are held)
        self.buffer_depth = self.latency + 1
        super().__init__({
            "i": In(stream.Signature(feature_layout(net))),
            "o": Out(stream.Signature(output_layout(self.readout, with_scores))),
        })

    def elaborate(self, platform):
        m = Module()
        net = self._net
        en = Const(1)  # the stages keep their enable ports; here nothing stalls

        m.submodules.encoder = encoder = Encoder(net.encoder, net.quantizer.bits)
        m.d.comb += [encoder.i.eq(self.i.payload.as_value()), encoder.en.eq(en)]
        prev, n_prev = encoder.o, net.encoder.n_bits
        for idx, layer in enumerate(net.layers):
            stage = LutLayerStage(layer, idx, n_prev, registered=self.registered_layers[idx])
            m.submodules[f"layer{idx}"] = stage
            m.d.comb += [stage.i.eq(prev), stage.en.eq(en)]
            prev, n_prev = stage.o, layer.n_nodes
        m.submodules.readout = readout = self.readout
        m.d.comb += [readout.i.eq(prev), readout.en.eq(en)]

        accept = self.i.valid & self.i.ready
        valid = Signal(self.pipeline_latency, name="valid_pipe")
        m.d.sync += valid.eq((valid << 1) | accept)

        # Output buffer: a ring of results, read asynchronously (flip-flops on iCE40,
        # LUT RAM on ECP5). The credits below guarantee it never overflows, so writing
        # needs no full check (in Amaranth's SyncFIFOBuffered that check was the iCE40
        # critical path); the read side is first-word fall-through. Measured on the
        # default digits model, a block-RAM ring was slower on both families (iCE40
        # 60.8 MHz, ECP5 167.0 MHz, against 75.7 and 261.4 for this one).
        layout = output_layout(self.readout, self._with_scores)
        depth = self.buffer_depth
        m.submodules.out_mem = mem = Memory(shape=layout.size, depth=depth, init=[])
        wr = mem.write_port()
        rd = mem.read_port(domain="comb")
        wp = Signal(range(depth), name="out_wp")
        rp = Signal(range(depth), name="out_rp")
        result = Signal(layout)
        m.d.comb += result.cls.eq(readout.cls)
        if self._with_scores:
            m.d.comb += result.scores.eq(readout.scores)
        write = valid[-1]
        # results waiting, as a thermometer code: o.valid is a flip-flop, not a compare
        waiting = Signal(depth, name="out_waiting")
        take = waiting[0] & self.o.ready
        m.d.comb += [wr.addr.eq(wp), wr.data.eq(result), wr.en.eq(write),
                     rd.addr.eq(rp), self.o.payload.eq(rd.data), self.o.valid.eq(waiting[0])]
        with m.If(write):
            m.d.sync += wp.eq(Mux(wp == depth - 1, 0, wp + 1))
        with m.If(take):
            m.d.sync += rp.eq(Mux(rp == depth - 1, 0, rp + 1))
        _count(m, waiting, write, take)

        # Credits: samples accepted and not yet taken, also a thermometer code, so
        # ``i.ready`` (fewer than ``depth`` held) is one flip-flop's output.
        held = Signal(depth, name="held")
        m.d.comb += self.i.ready.eq(~held[depth - 1])
        _count(m, held, accept, take)
        return m
