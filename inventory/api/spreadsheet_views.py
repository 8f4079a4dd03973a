"""`products/import/` and `products/export/`: thin doors onto inventory.spreadsheets."""

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import RetrieveAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from inventory.jobs import import_job_create
from inventory.models import ImportBatch, ImportJob
from inventory.spreadsheets import (
    CONTENT_TYPES,
    FORMATS,
    SpreadsheetInvalid,
    check_upload_size,
    export_file_name,
    product_export,
    product_import,
)


class _StaffWithPermission(BasePermission):
    permission = ""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_staff and user.has_perm(self.permission))


class CanImportProducts(_StaffWithPermission):
    permission = "inventory.import_product"


class CanExportProducts(_StaffWithPermission):
    permission = "inventory.export_product"


class ProductImportSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    dry_run = serializers.BooleanField(default=False)


class ProductImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    categories_created = serializers.IntegerField()
    dry_run = serializers.BooleanField()


class SpreadsheetErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Row in the sheet; header = 1")
    field = serializers.CharField(allow_null=True, help_text="Column, or 'file'")
    message = serializers.CharField()


class SpreadsheetErrorsSerializer(serializers.Serializer):
    errors = SpreadsheetErrorSerializer(many=True)


class ImportJobQueuedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ImportJob.Status.choices)
    url = serializers.URLField(help_text="The job: GET it for its progress and result")


class ImportJobSerializer(serializers.ModelSerializer):
    errors = SpreadsheetErrorSerializer(many=True, help_text="Every problem; nothing written")

    class Meta:
        model = ImportJob
        fields = [
            "id", "status", "rows_done", "rows_total", "created", "updated",
            "categories_created", "errors", "created_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


def _errors(errors: list[dict]) -> Response:
    body = [{"row": e["row"], "field": e["field"], "message": e["message"]} for e in errors]
    return Response({"errors": body}, status=status.HTTP_400_BAD_REQUEST)


MULTIPART_OVERHEAD = 64 * 1024  # the form's boundaries and headers around the file


class ProductImportView(APIView):
    permission_classes = [IsAuthenticated, CanImportProducts]
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="products_import",
        tags=["products"],
        request={"multipart/form-data": ProductImportSerializer},
        responses={
            200: ProductImportResultSerializer,
            202: OpenApiResponse(
                ImportJobQueuedSerializer,
                description="A file larger than IMPORT_SYNC_MAX_BYTES: queued as an import job",
            ),
            400: OpenApiResponse(
                SpreadsheetErrorsSerializer,
                description="Nothing written: every invalid row, or why the file is unreadable",
            ),
            401: OpenApiResponse(description="Not authenticated"),
            403: OpenApiResponse(description="Not an inventory manager"),
        },
    )
    def post(self, request):
        # Refuse an oversized upload before reading (and parsing) its body.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
            check_upload_size(length - MULTIPART_OVERHEAD)
        except SpreadsheetInvalid as exc:
            return _errors(exc.errors)
        except ValueError:
            pass  # no usable Content-Length: the upload's own size is checked below
        serializer = ProductImportSerializer(data=request.data)
        if not serializer.is_valid():
            return _errors(
                [
                    {"row": None, "field": name, "message": str(message)}
                    for name, messages in serializer.errors.items()
                    for message in messages
                ]
            )
        upload = serializer.validated_data["file"]
        if upload.size > settings.IMPORT_SYNC_MAX_BYTES:
            job = import_job_create(
                file=upload,
                file_name=upload.name or "",
                user=request.user,
                source=ImportBatch.Source.API,
                dry_run=serializer.validated_data["dry_run"],
            )
            job.refresh_from_db(fields=["status"])  # without a broker it has already run
            url = reverse("product-import-job", args=[job.pk], request=request)
            return Response(
                ImportJobQueuedSerializer({"id": job.pk, "status": job.status, "url": url}).data,
                status=status.HTTP_202_ACCEPTED,
            )
        try:
            result = product_import(
                file=upload,
                file_name=upload.name or "",
                dry_run=serializer.validated_data["dry_run"],
                user=request.user,
                source=ImportBatch.Source.API,
            )
        except SpreadsheetInvalid as exc:
            return _errors(exc.errors)
        return Response(ProductImportResultSerializer(result.as_dict()).data)


class ImportJobView(RetrieveAPIView):
    permission_classes = [IsAuthenticated, CanImportProducts]
    serializer_class = ImportJobSerializer
    queryset = ImportJob.objects.all()

    @extend_schema(
        operation_id="products_import_job",
        tags=["products"],
        responses={
            200: ImportJobSerializer,
            401: OpenApiResponse(description="Not authenticated"),
            403: OpenApiResponse(description="Not an inventory manager"),
            404: OpenApiResponse(description="No such import job"),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class _AnyAccept(BaseContentNegotiation):
    """The export answers a file whatever the Accept header; errors are JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ProductExportQuerySerializer(serializers.Serializer):
    file_format = serializers.ChoiceField(choices=FORMATS, default="csv")


class ProductExportView(APIView):
    permission_classes = [IsAuthenticated, CanExportProducts]
    content_negotiation_class = _AnyAccept

    @extend_schema(
        operation_id="products_export",
        tags=["products"],
        parameters=[
            OpenApiParameter("file_format", str, enum=list(FORMATS), default="csv"),
        ],
        responses={
            # CSV is text (UTF-8), XLSX a binary file: each under its own media type.
            (200, "text/csv"): OpenApiTypes.STR,
            (200, CONTENT_TYPES["xlsx"]): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="Unknown file_format"),
            401: OpenApiResponse(description="Not authenticated"),
            403: OpenApiResponse(description="Not an inventory manager"),
        },
    )
    def get(self, request):
        query = ProductExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        file_format = query.validated_data["file_format"]
        response = HttpResponse(
            product_export(file_format=file_format), content_type=CONTENT_TYPES[file_format]
        )
        response["Content-Disposition"] = f'attachment; filename="{export_file_name(file_format)}"'
        return response
