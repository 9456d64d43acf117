"""The ``Inference`` top: feature integers in, class id out, one sample per clock.

Input and output are :mod:`amaranth.lib.stream` interfaces. The pipeline never
stalls: every register moves on every clock, with no enable. Results enter a small
output buffer, and ``i.ready`` is credit-based: a sample is accepted only while the
samples in flight plus those waiting in the buffer are fewer than the buffer's
capacity, so under back-pressure nothing is dropped or duplicated. An enable fanning
out to every flip-flop of the pipeline used to be the ECP5 critical path (173.6 MHz;
218 MHz without it).

A valid bit travels beside the data and resets to 0, so after reset nothing valid
emerges until real input arrives. Only those valid bits, the buffer's control
bits and the credit count have a reset: data registers are ``reset_less``, which
keeps a high-fanout reset net off thousands of flip-flops. The reset is a multiplexer
in each control register's next value (:mod:`.reset`), so that 4-state simulators
clear them with reset held from time 0; ``i.ready`` is low while reset is held.
"""

from __future__ import annotations

from amaranth import Module
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..netlist import Netlist
from .credits import CreditCounter
from .readout import ReadoutTree
from .reset import control_register, reset_register
from .result_buffer import ResultBuffer
from .stages import Encoder, LutLayerStage

__all__ = ["Inference", "feature_layout", "output_layout"]


def feature_layout(net: Netlist) -> data.StructLayout:
    """The input payload: one unsigned field ``x{f}`` per feature, feature 0 lowest."""
    return data.StructLayout({f"x{f}": int(b) for f, b in enumerate(net.quantizer.bits)})


def output_layout(readout: ReadoutTree, with_scores: bool) -> data.StructLayout:
    fields = {"cls": readout.class_width}
    if with_scores:
        fields["scores"] = data.ArrayLayout(readout.score_width, len(readout.scores))
    return data.StructLayout(fields)


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
        self.latency = self.pipeline_latency + ResultBuffer.LATENCY
        # enough credits that a full-rate stream never sees i.ready low (at full rate
        # `latency` samples are held)
        self.capacity = self.latency + 1
        super().__init__({
            "i": In(stream.Signature(feature_layout(net))),
            "o": Out(stream.Signature(output_layout(self.readout, with_scores))),
        })

    def elaborate(self, platform):
        m = Module()
        net = self._net
        m.submodules.encoder = encoder = Encoder(net.encoder, net.quantizer.bits)
        m.d.comb += encoder.i.eq(self.i.payload.as_value())
        prev, n_prev = encoder.o, net.encoder.n_bits
        for idx, layer in enumerate(net.layers):
            stage = LutLayerStage(layer, idx, n_prev, registered=self.registered_layers[idx])
            m.submodules[f"layer{idx}"] = stage
            m.d.comb += stage.i.eq(prev)
            prev, n_prev = stage.o, layer.n_nodes
        m.submodules.readout = readout = self.readout
        m.d.comb += readout.i.eq(prev)

        accept = self.i.valid & self.i.ready
        valid = control_register(self.pipeline_latency, "valid_pipe")
        reset_register(m, valid, (valid << 1) | accept)

        # Results wait in the output buffer; the credit counter guarantees it never
        # overflows. Measured on the default digits model (iCE40 / ECP5 MHz): a
        # block-RAM ring 60.8 / 167.0 (before every path was kept to two LUT levels),
        # Amaranth's SyncFIFOBuffered 76.3 / 193.1 (its full check was the iCE40
        # critical path), a flip-flop/LUT-RAM ring with a binary write pointer
        # 75.7 / 261.4; see ResultBuffer for what is used now (a block-RAM ring again).
        m.submodules.output_buffer = buffer = ResultBuffer(
            output_layout(self.readout, self._with_scores), self.capacity)
        m.d.comb += [buffer.i.valid.eq(valid[-1]), buffer.i.payload.cls.eq(readout.cls)]
        if self._with_scores:
            m.d.comb += buffer.i.payload.scores.eq(readout.scores)
        wiring.connect(m, buffer.o, wiring.flipped(self.o))

        m.submodules.credits = credits = CreditCounter(self.capacity)
        m.d.comb += [credits.i_valid.eq(self.i.valid), self.i.ready.eq(credits.i_ready),
                     credits.o_valid.eq(self.o.valid), credits.o_ready.eq(self.o.ready)]
        return m
