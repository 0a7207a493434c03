"""REST endpoints for buyer BOMs (contract: "Buyer BOMs"): upload, list, read, correct a line,
quote. Kept apart from api.py so the BOM workbench reads as one piece; the quote it returns is
the kit quote's shape plus `unsourced`."""

import json
from decimal import Decimal

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import paginated_response
from config.parsers import UPLOAD_PARSERS
from marketplace.boms.models import Bom
from marketplace.boms.reader import MAX_BYTES
from marketplace.boms.selectors import bom_line_rows, bom_list
from marketplace.boms.services import bom_line_update, bom_quote, bom_upload
from marketplace.catalogue.models import Part
from marketplace.exceptions import BomInvalid, BomLineInvalid
from marketplace.sourcing.api import QuoteOptionsInputSerializer, QuoteOutputSerializer
from marketplace.sourcing.exports import XLSX_TYPE, quote_csv, quote_xlsx
from marketplace.sourcing.selectors import quote_list
from organizations.access import get_acting_organization


class BomLineOutputSerializer(serializers.Serializer):
    class AlternateSerializer(serializers.Serializer):
        manufacturer = serializers.CharField()
        mpn = serializers.CharField()

    class MatchSerializer(serializers.Serializer):
        class CandidateSerializer(serializers.Serializer):
            part = serializers.IntegerField()
            manufacturer = serializers.CharField()
            mpn = serializers.CharField()
            confidence = serializers.CharField()
            reason = serializers.CharField(required=False)

        status = serializers.ChoiceField(choices=["exact", "probable", "ambiguous", "none"])
        part = serializers.IntegerField(allow_null=True)
        manufacturer = serializers.CharField(allow_null=True)
        mpn = serializers.CharField(allow_null=True)
        confidence = serializers.CharField()
        reason = serializers.CharField()
        confirmed = serializers.BooleanField(help_text="The buyer chose or confirmed this part")
        candidates = CandidateSerializer(many=True)

    line = serializers.IntegerField()
    designators = serializers.ListField(child=serializers.CharField())
    quantity = serializers.CharField(help_text="Per assembled board")
    manufacturer = serializers.CharField()
    mpn = serializers.CharField()
    alternates = AlternateSerializer(many=True)
    description = serializers.CharField()
    value = serializers.CharField()
    footprint = serializers.CharField()
    rows = serializers.ListField(child=serializers.IntegerField(), help_text="The file's rows merged into this line")
    dnp = serializers.BooleanField()
    substitutes = serializers.ListField(child=serializers.IntegerField())
    match = MatchSerializer()


def bom_line_output(row: dict) -> dict:
    """A row of `bom_line_rows` in the contract's shape."""
    return {
        "line": row["line"], "designators": [d for d in row["designators"].split(",") if d],
        "quantity": f"{row['quantity'].normalize():f}", "manufacturer": row["manufacturer"], "mpn": row["mpn"],
        "alternates": [{"manufacturer": m, "mpn": p} for m, p in row["alternates"]],
        "description": row["description"], "value": row["value"], "footprint": row["footprint"], "rows": row["rows"],
        "dnp": row["dnp"], "substitutes": row["substitutes"],
        "match": {"status": row["status"], "part": row["part_id"], "manufacturer": row["part__manufacturer"],
                  "mpn": row["part__mpn"], "confidence": str(row["confidence"]), "reason": row["reason"],
                  "confirmed": row["confirmed"], "candidates": row["candidates"]},
    }


class BomOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    filename = serializers.CharField()
    columns = serializers.DictField(help_text="The mapping used: field -> the file's column name (a list for MPN "
                                              "and manufacturer when alternates have their own columns)")
    header_row = serializers.IntegerField(allow_null=True)
    rows_read = serializers.IntegerField()
    dnp_rows = serializers.IntegerField()
    placements = serializers.CharField(help_text="Sum of the populated lines' quantities per board")
    kit = serializers.IntegerField(allow_null=True, help_text="The private kit revision quotes use")
    lines = BomLineOutputSerializer(many=True)
    created_at = serializers.DateTimeField()


def bom_output(bom: Bom) -> dict:
    items = bom_line_rows(bom=bom)
    placements = sum((i["quantity"] for i in items if not i["dnp"]), Decimal(0))
    return {"id": bom.pk, "name": bom.name, "filename": bom.filename, "columns": bom.columns,
            "header_row": bom.header_row, "rows_read": bom.rows_read, "dnp_rows": bom.dnp_rows,
            "placements": f"{placements.normalize():f}", "kit": bom.kit_id,
            "lines": [bom_line_output(i) for i in items], "created_at": bom.created_at}


class BomListItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    filename = serializers.CharField()
    rows_read = serializers.IntegerField()
    dnp_rows = serializers.IntegerField()
    lines = serializers.IntegerField(source="line_count")
    matched = serializers.IntegerField(source="matched_count")
    unmatched = serializers.IntegerField(source="unmatched_count")
    kit = serializers.IntegerField(source="kit_id", allow_null=True)
    created_at = serializers.DateTimeField()


class BomErrorSerializer(serializers.Serializer):
    class RowErrorSerializer(serializers.Serializer):
        row = serializers.IntegerField(help_text="1-based row of the file; 0 for the whole file")
        column = serializers.CharField()
        message = serializers.CharField()

    file = serializers.ListField(child=serializers.CharField())
    errors = RowErrorSerializer(many=True)


class BomListCreateApi(APIView):
    parser_classes = UPLOAD_PARSERS  # a file upload: multipart only (config/parsers.py)

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(allow_empty_file=True)
        name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
        columns = serializers.CharField(required=False, allow_blank=True, default="",
                                        help_text='JSON: {"designators","manufacturer","mpn","quantity","description",'
                                                  '"dnp","value","footprint"} -> the file\'s column names')

        def validate_columns(self, value: str) -> dict:
            if not value.strip():
                return {}
            try:
                columns = json.loads(value)
            except ValueError:
                raise serializers.ValidationError("`columns` is not JSON; send an object such as {\"mpn\": \"MPN\"}.")
            if not isinstance(columns, dict) or not all(
                    isinstance(v, (str, int, type(None))) or (isinstance(v, list) and all(isinstance(x, (str, int)) for x in v))
                    for v in columns.values()):
                raise serializers.ValidationError("`columns` maps field names to column names (or lists of them).")
            return columns

    @extend_schema(responses=BomListItemSerializer(many=True))
    def get(self, request):
        """Your organisation's BOMs, newest first."""
        org = get_acting_organization(request)
        return paginated_response(self, request, bom_list(owner=org),
                                  lambda page: BomListItemSerializer(page, many=True).data)

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={201: BomOutputSerializer,
                                                                                400: BomErrorSerializer})
    def post(self, request):
        """Upload a BOM exported from an EDA tool (CSV, TSV, semicolon CSV or XLSX, up to 10 MB):
        its columns are mapped, do-not-populate rows dropped, rows of one part merged and every line
        matched to catalogue parts. A bad row: 400 naming row and column, nothing saved."""
        org = get_acting_organization(request)
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            # Every 400 of this operation has the documented BomError shape (the schema says so).
            problems = [(field, str(message)) for field, messages in data.errors.items() for message in messages]
            return Response({"file": [f"{field}: {message}" for field, message in problems],
                             "errors": [{"row": 0, "column": field, "message": message} for field, message in problems]},
                            status=status.HTTP_400_BAD_REQUEST)
        upload = data.validated_data["file"]
        if upload.size > MAX_BYTES:
            return _refused(BomInvalid([{"row": 0, "column": "file",
                                         "message": "The file is larger than 10 MB; split the BOM or remove embedded images."}]))
        try:
            bom = bom_upload(owner=org, content=upload.read(), filename=upload.name or "",
                             name=data.validated_data["name"], columns=data.validated_data["columns"] or None,
                             created_by=request.user)
        except BomInvalid as exc:
            return _refused(exc)
        # bom_output already has the documented shape; running 1,000 lines through nested serializers
        # again would cost more than reading and matching them (docs/benchmarks.md).
        return Response(bom_output(bom), status=status.HTTP_201_CREATED)


def _refused(exc: BomInvalid) -> Response:
    return Response({"file": exc.message_dict["file"], "errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)


def _owned_bom(request, pk: int) -> Bom:
    bom = Bom.objects.filter(owner=get_acting_organization(request), pk=pk).first()
    if bom is None:
        raise Http404
    return bom


class BomDetailApi(APIView):
    @extend_schema(responses=BomOutputSerializer)
    def get(self, request, pk: int):
        return Response(bom_output(_owned_bom(request, pk)))


class BomLineUpdateApi(APIView):
    class InputSerializer(serializers.Serializer):
        part = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1,
                                        help_text="The part this line is; null: no part")
        quantity = serializers.DecimalField(required=False, max_digits=12, decimal_places=4, min_value=Decimal("0.0001"),
                                            max_value=Decimal("1000000"), help_text="Per assembled board")
        substitutes = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
                                            required=False, max_length=20)
        dnp = serializers.BooleanField(required=False)

    @extend_schema(request=InputSerializer, responses=BomLineOutputSerializer)
    def patch(self, request, pk: int, line: int):
        """Confirm or correct a line: choose its part (or none), its quantity, its substitutes,
        or mark it do-not-populate."""
        bom = _owned_bom(request, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        ids = set(d.get("substitutes", [])) | ({d["part"]} if d.get("part") else set())
        parts = Part.objects.in_bulk(ids)
        missing = sorted(ids - set(parts))
        if missing:
            raise BomLineInvalid({"part" if d.get("part") in missing else "substitutes": [f"Unknown part id(s): {missing}."]})
        changes = {}
        if "part" in d:
            changes["part"] = parts[d["part"]] if d["part"] else None
        if "quantity" in d:
            changes["quantity"] = d["quantity"]
        if "substitutes" in d:
            changes["substitutes"] = [parts[s] for s in d["substitutes"]]
        if "dnp" in d:
            changes["dnp"] = d["dnp"]
        if bom.items.filter(line=line).first() is None:
            raise Http404
        bom_line_update(bom=bom, line=line, **changes)
        return Response(bom_line_output(bom_line_rows(bom=bom, line=line)[0]))


class BomQuoteApi(APIView):
    class InputSerializer(serializers.Serializer):
        quantity = serializers.IntegerField(min_value=1, max_value=10_000_000)
        options = QuoteOptionsInputSerializer(required=False, allow_null=True, help_text="Sourcing options, as for kit quotes")

    @extend_schema(request=InputSerializer, responses={201: QuoteOutputSerializer})
    def post(self, request, pk: int):
        """Quote the BOM at a batch size through the same sourcing as kits. Lines without a part
        are listed in `unsourced` with what the batch needs."""
        bom = _owned_bom(request, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        quote = bom_quote(bom=bom, quantity=data.validated_data["quantity"], created_by=request.user,
                          options=data.validated_data.get("options"))
        return Response(QuoteOutputSerializer(quote_list(organization=bom.owner).get(pk=quote.pk)).data,
                        status=status.HTTP_201_CREATED)


class QuoteExportApi(APIView):
    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY,
                              (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY})
    def get(self, request, pk: int, kind: str):
        """The quote as a spreadsheet (`csv` or `xlsx`): per purchase its designators, MPN, vendor,
        quantity, unit and extended price; unsourced and short lines; per-vendor subtotals."""
        org = get_acting_organization(request)
        quote = quote_list(organization=org).filter(pk=pk).first()
        if quote is None or kind not in ("csv", "xlsx"):
            raise Http404
        if kind == "csv":
            response = HttpResponse(quote_csv(quote), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(quote_xlsx(quote), content_type=XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="kitstreet-quote-{quote.pk}.{kind}"'
        return response
