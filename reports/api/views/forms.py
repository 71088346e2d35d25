"""A department's existing Excel form brought in: upload, the proposed mapping of each
column, and its confirmation as a template."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from grids import scoping
from grids.api.parsers import FormParser, JSONParser, MultiPartParser
from reports.api.serializers import FormConfirmSerializer, FormUploadSerializer, TemplateSerializer
from reports.models import FormImport


class FormImportViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Bring a department's existing Excel form in: upload (`POST`), check the proposed
    mapping of each column to an indicator, then `confirm` it as a template."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]
    serializer_class = FormUploadSerializer
    queryset = FormImport.objects.none()  # for the schema; get_queryset scopes

    def get_queryset(self):
        user = self.request.user
        imports = FormImport.objects.select_related("department", "template")
        if scoping.sees_everything(user):
            return imports
        if user.role == "department":
            return imports.filter(department=user.department_id)
        district = scoping.user_district(user)
        return imports.filter(department__district=district) if district else imports.none()

    @staticmethod
    def _data(form: FormImport) -> dict:
        return {
            "id": form.pk,
            "department": form.department.code,
            "filename": form.filename,
            "status": form.status,
            "layout": form.layout,
            "proposals": form.proposals,
            "template": form.template.code if form.template else None,
        }

    @extend_schema(request=FormUploadSerializer, responses={201: OpenApiTypes.OBJECT})
    def create(self, request):
        from reports.services import forms

        data = FormUploadSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        department = data.validated_data.get("department") or request.user.department
        if department is None:
            raise ValidationError({"department": [_("say which department the form is from")]})
        upload = data.validated_data["file"]
        form = forms.propose(request.user, department, upload.read(), upload.name)
        return Response(self._data(form), status=status.HTTP_201_CREATED)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def retrieve(self, request, pk=None):
        return Response(self._data(get_object_or_404(self.get_queryset(), pk=pk)))

    @extend_schema(request=FormConfirmSerializer, responses=TemplateSerializer)
    @action(detail=True, methods=["post"], serializer_class=FormConfirmSerializer)
    def confirm(self, request, pk=None):
        """Confirm or correct the mapping: each decision is `{"column": n, "indicator":
        code}` (an existing item), `{"column": n, "new": {...}}` (really new) or
        `{"column": n, "skip": true}`. Creates the template in one transaction."""
        from reports.services import forms

        form = get_object_or_404(self.get_queryset(), pk=pk)
        data = FormConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        template = forms.confirm(
            request.user,
            form,
            v["decisions"],
            title=v["title"],
            code=v["code"],
            period_type=v["period_type"],
            row_level=v["row_level"],
            due_day=v["due_day"],
        )
        return Response(
            TemplateSerializer(template, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def figures(self, request, pk=None):
        """The district's current figure beside each column the platform computes (a derived
        indicator or a definition read from the heading), saved into the proposals. Apart from
        the upload because it counts the whole district (seconds at full scale)."""
        from reports.services import forms

        form = get_object_or_404(self.get_queryset(), pk=pk)
        return Response(self._data(forms.add_figures(request.user, form)))
